import pytest
from django.core.management import call_command

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
