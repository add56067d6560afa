import pytest
from django.core.management import CommandError, call_command

from accounts.models import Tenant
from analytics.selectors import genre_trends, session_summary
from streams.models import ChatInteraction, StreamSession, TrackPlay

pytestmark = pytest.mark.django_db


def test_seed_demo_data_creates_linked_realistic_rows(capsys):
    call_command("seed_demo_data", "--plays", "1000", "--sessions", "30", "--tenant", "demo")
    out = capsys.readouterr().out
    assert "30/30 sessions" in out and "Seeded tenant demo: 30 sessions, 1000 plays" in out
    assert StreamSession.objects.count() == 30
    assert TrackPlay.objects.count() == 1000
    interactions = ChatInteraction.objects.all()
    assert interactions.exists() and not interactions.filter(track__isnull=True).exists()
    # every interaction points at the track playing at its time
    for chat in interactions.select_related("track")[:50]:
        later = TrackPlay.objects.filter(session=chat.session, played_at__gt=chat.track.played_at,
                                         played_at__lte=chat.at)
        assert not later.exists()
    tenant = StreamSession.objects.first().tenant
    assert sum(t["total_plays"] for t in genre_trends(tenant=tenant)) == 1000
    assert sum(t["total_plays"] for t in genre_trends(tenant=tenant, use_rollups=False)) == 1000
    summary = session_summary(tenant=tenant, session_id=StreamSession.objects.first().session_id)
    assert summary["session"]["average_viewers"] > 0 and summary["viewer_timeline"]


def test_a_second_run_adds_to_the_tenant(capsys):
    """Session ids are fresh each run, so seeding again (same seed) never collides with the first."""
    for _ in range(2):
        call_command("seed_demo_data", "--plays", "100", "--sessions", "4", "--tenant", "demo", "--no-rollups")
    assert StreamSession.objects.count() == 8 and TrackPlay.objects.count() == 200
    assert "Seeded tenant demo: 4 sessions, 100 plays" in capsys.readouterr().out


def test_progress_is_one_line_per_batch_when_not_a_terminal(capsys):
    call_command("seed_demo_data", "--plays", "400", "--sessions", "40", "--tenant", "demo", "--no-rollups")
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert len(lines) == 20  # batches of two sessions
    assert lines[0].startswith("[#                             ] 2/40 sessions, 20 plays")
    assert lines[-1].startswith("[##############################] 40/40 sessions, 400 plays")


def test_a_new_tenant_is_created_with_a_hint(capsys):
    call_command("seed_demo_data", "--plays", "10", "--sessions", "1", "--tenant", "fresh", "--no-rollups")
    assert "Created tenant fresh with no members" in capsys.readouterr().out
    assert Tenant.objects.filter(slug="fresh").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--sessions", "0"], "--sessions must be between 1"),
    (["--sessions", "1000001"], "--sessions must be between 1"),
    (["--plays", "-1"], "--plays must be between 0"),
    (["--plays", "20000001", "--sessions", "1000000"], "--plays must be between 0"),
    (["--plays", "1001", "--sessions", "1"], "more than 1000 plays per session"),
    (["--days", "0"], "--days must be between 1"),
    (["--days", "100000000"], "--days must be between 1"),
    (["--tenant", "Bad Slug!"], "not a valid slug"),
    (["--tenant", ""], "not a valid slug"),
])
def test_arguments_are_validated(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo_data", *args)
    assert not TrackPlay.objects.exists()
    assert not Tenant.objects.filter(slug__in=["demo", "Bad Slug!", ""]).exists()
