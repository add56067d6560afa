"""`insert_row()` stores exactly what `save(force_insert=True)` would, for the models it is used on."""

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.utils import timezone

from streams.models import StreamSession, TrackPlay
from webhooks import rows
from webhooks.inbound.models import InboundMessage
from webhooks.inbound.services import source_create
from webhooks.models import Event
from webhooks.rows import has_save_hooks, insert_row, locked_row, locked_row_and_insert, update_row

pytestmark = pytest.mark.django_db


def test_an_event_row_round_trips_with_its_own_id_and_json(tenant):
    data = {"n": 1, "text": "é ✓", "nested": {"list": [1, 2.5, None, True]}}
    event = Event(tenant=tenant, type="webhook.test", data=data, created_at=timezone.now())
    assert insert_row(event) is True
    stored = Event.objects.get(pk=event.pk)
    assert event.pk.startswith("msg_") and not event._state.adding
    assert (stored.tenant_id, stored.type, stored.data, stored.fanned_out_at) == (tenant.pk, "webhook.test", data, None)
    assert stored.created_at == event.created_at


def test_an_inbound_message_gets_the_database_pk_and_keeps_bytes_and_defaults(tenant):
    source, _ = source_create(tenant=tenant, name="rec", kind="recorder")
    body = b'{"a": 1}\xff\x00 raw'  # bytes as sent, not text
    message = InboundMessage(tenant=tenant, source=source, received_at=timezone.now(), handler="recordings.webhook",
                             headers={"Content-Type": "application/json"}, body=body, sha256="0" * 64,
                             response_body={"status": "success", "pk": 3})
    insert_row(message)
    second = InboundMessage(tenant=tenant, source=source, received_at=timezone.now(), handler="h", body=b"",
                            sha256="1" * 64)
    insert_row(second)
    stored = InboundMessage.objects.get(pk=message.pk)
    assert second.pk > message.pk
    assert bytes(stored.body) == body
    assert (stored.status, stored.attempts, stored.message_id, stored.error) == ("received", 0, "", "")
    assert stored.headers == {"Content-Type": "application/json"}
    assert stored.response_body == {"status": "success", "pk": 3}
    assert InboundMessage.objects.get(pk=second.pk).response_body is None  # SQL NULL, not JSON null


@pytest.mark.parametrize("model", [Event, InboundMessage, TrackPlay, StreamSession])
def test_the_models_written_with_insert_row_have_no_save_hooks_it_would_skip(model):
    assert not has_save_hooks(model)


def test_the_hook_guard_sees_a_receiver():
    def receiver(**kwargs):
        pass

    post_save.connect(receiver, sender=Event)
    try:
        assert has_save_hooks(Event)
    finally:
        post_save.disconnect(receiver, sender=Event)


def test_a_conflict_on_the_named_key_inserts_nothing_and_says_so(tenant):
    session = StreamSession.objects.create(tenant=tenant, session_id="s1")
    at = timezone.now()

    def play(bpm):
        return TrackPlay(tenant=tenant, session=session, played_at=at, artist="A", title="T", bpm=bpm)

    first, again = play(120.0), play(99.0)
    assert insert_row(first, unless_conflict_on=("session", "played_at", "artist", "title")) is True
    assert insert_row(again, unless_conflict_on=("session", "played_at", "artist", "title")) is False
    assert again.pk is None and again._state.adding
    assert list(TrackPlay.objects.values_list("pk", "bpm")) == [(first.pk, 120.0)]  # the first one, untouched


def test_locked_row_reads_every_column_as_the_orm_does(tenant):
    at = timezone.now()
    StreamSession.objects.create(tenant=tenant, session_id="s1", title="Deep", started_at=at, peak_viewers=7,
                                 status=StreamSession.Status.LIVE)
    orm = StreamSession.objects.get(tenant=tenant, session_id="s1")
    row = locked_row(StreamSession, tenant=tenant.pk, session_id="s1")
    fields = [f.attname for f in StreamSession._meta.concrete_fields]
    assert {f: getattr(row, f) for f in fields} == {f: getattr(orm, f) for f in fields}
    assert row.started_at == at and row.started_at.tzinfo is not None  # SQLite stores text: converted back
    assert not row._state.adding and row._state.db == "default"
    assert locked_row(StreamSession, tenant=tenant.pk, session_id="nope") is None


_PLAY_KEY = ("session", "played_at", "artist", "title")


def test_locked_row_and_insert_locks_the_parent_and_inserts_the_child_under_it(tenant, other_tenant):
    at = timezone.now()
    session = StreamSession.objects.create(tenant=tenant, session_id="s1", title="Deep")
    StreamSession.objects.create(tenant=other_tenant, session_id="s1")  # the same session id elsewhere

    def play(bpm):
        return TrackPlay(tenant=tenant, played_at=at, artist="A", title="T", bpm=bpm, characteristics=["warm"])

    first = play(120.0)
    row, inserted = locked_row_and_insert(StreamSession, {"tenant": tenant.pk, "session_id": "s1"}, first,
                                          parent="session", unless_conflict_on=_PLAY_KEY)
    assert inserted is True and row.pk == session.pk and row.title == "Deep"
    assert first.session == row and first.pk is not None and not first._state.adding
    stored = TrackPlay.objects.get(pk=first.pk)
    assert (stored.session_id, stored.tenant_id, stored.bpm, stored.characteristics) == (
        session.pk, tenant.pk, 120.0, ["warm"])

    again = play(99.0)  # a replay: the row is locked, nothing is inserted
    row, inserted = locked_row_and_insert(StreamSession, {"tenant": tenant.pk, "session_id": "s1"}, again,
                                          parent="session", unless_conflict_on=_PLAY_KEY)
    assert (row.pk, inserted, again.pk) == (session.pk, False, None)
    assert list(TrackPlay.objects.values_list("pk", "bpm")) == [(first.pk, 120.0)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-round-trip statement pair is PostgreSQL's")
def test_a_parent_committed_between_the_lock_and_the_insert_is_locked_and_the_insert_reported(tenant, monkeypatch):
    """READ COMMITTED: the insert's SELECT may see a parent that the lock's SELECT, a statement
    earlier, did not. The child is then in: the caller must hear so (or it would take the row for a
    replay and drop its event), and the parent gets locked after all."""
    session = StreamSession.objects.create(tenant=tenant, session_id="s1")
    real, calls = rows._select_for_update, []

    def not_yet_committed(model, vendor, keys):  # the lock's first statement finds nothing
        calls.append(keys)
        sql = real(model, vendor, keys)
        return sql.replace(" FOR UPDATE", " AND 1 = 0 FOR UPDATE") if len(calls) == 1 else sql

    monkeypatch.setattr(rows, "_select_for_update", not_yet_committed)
    play = TrackPlay(tenant=tenant, played_at=timezone.now(), artist="A", title="T")
    row, inserted = locked_row_and_insert(StreamSession, {"tenant": tenant.pk, "session_id": "s1"}, play,
                                          parent="session", unless_conflict_on=_PLAY_KEY)
    assert (row.pk, inserted, play.session_id) == (session.pk, True, session.pk)
    assert play.pk is not None and list(TrackPlay.objects.values_list("pk", flat=True)) == [play.pk]
    assert len(calls) == 2  # and the second lock found it


def test_locked_row_and_insert_without_a_parent_inserts_nothing(tenant):
    orphan = TrackPlay(tenant=tenant, played_at=timezone.now(), artist="A", title="T")
    assert locked_row_and_insert(StreamSession, {"tenant": tenant.pk, "session_id": "none"}, orphan,
                                 parent="session", unless_conflict_on=_PLAY_KEY) == (None, False)
    assert not TrackPlay.objects.exists() and orphan.pk is None


def test_update_row_writes_only_the_named_fields_and_stamps_auto_now(tenant):
    session = StreamSession.objects.create(tenant=tenant, session_id="s1", title="old", peak_viewers=3)
    stale = StreamSession.objects.get(pk=session.pk)
    StreamSession.objects.filter(pk=session.pk).update(current_viewers=9)  # someone else's change
    before = session.updated_at
    stale.title, stale.peak_viewers = "new", 40
    update_row(stale, {"title", "updated_at"})
    stored = StreamSession.objects.get(pk=session.pk)
    assert (stored.title, stored.peak_viewers, stored.current_viewers) == ("new", 3, 9)  # peak not named: kept
    assert stored.updated_at > before and stored.updated_at == stale.updated_at
