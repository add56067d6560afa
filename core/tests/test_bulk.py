"""`core.bulk`: rows come back from the table exactly as given (COPY on PostgreSQL, bulk_create elsewhere)."""

import pytest
from django.db import transaction
from django.utils import timezone

from core.bulk import objects_insert, rows_append
from webhooks.models import Attempt, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(tenant) -> Delivery:
    now = timezone.now()
    endpoint = Endpoint.objects.create(tenant=tenant, url="https://example.test/hook", secret="whsec_x")
    event = Event.objects.create(tenant=tenant, type="webhook.test", data={}, created_at=now)
    return Delivery.objects.create(tenant=tenant, event=event, endpoint=endpoint, next_attempt_at=now)


def test_rows_are_stored_as_given_with_defaults_for_fields_left_out(delivery):
    started = timezone.now()
    awkward = 'tab\there, newline\nthere, a backslash \\N, quotes "\' and ünïcödé ✓'
    count = rows_append(Attempt, [
        {"delivery_id": delivery.pk, "number": 1, "started_at": started, "url": "https://example.test/hook",
         "request_headers": {"webhook-id": "msg_1", "nested": {"list": [1, None, "\\N"]}},
         "request_body": awkward, "status_code": None, "error": "timed out", "succeeded": False},
        {"delivery_id": delivery.pk, "number": 2, "started_at": started, "url": "https://example.test/hook",
         "status_code": 200, "response_body": "", "succeeded": True},
    ])

    assert count == 2
    first, second = Attempt.objects.filter(delivery=delivery).order_by("number")
    assert first.request_body == awkward and first.error == "timed out" and first.status_code is None
    assert first.request_headers == {"webhook-id": "msg_1", "nested": {"list": [1, None, "\\N"]}}
    assert first.started_at == started and not first.succeeded
    # Left out: the model's defaults, as bulk_create would have stored them.
    assert second.duration_ms == 0 and second.request_headers == {} and second.response_headers == {}
    assert second.request_body == "" and second.error == "" and second.status_code == 200 and second.succeeded
    assert second.pk > first.pk  # ids come from the table's own sequence, so later inserts don't collide
    later = Attempt.objects.create(delivery=delivery, number=3, started_at=started, url="https://example.test/h")
    assert later.pk > second.pk


def test_nothing_is_appended_when_the_transaction_is_rolled_back(delivery):
    with transaction.atomic():
        rows_append(Attempt, [{"delivery_id": delivery.pk, "number": 1, "started_at": timezone.now(),
                               "url": "https://example.test/hook"}])
        assert Attempt.objects.filter(delivery=delivery).count() == 1
        transaction.set_rollback(True)
    assert not Attempt.objects.filter(delivery=delivery).exists()


def test_no_rows_is_no_statement(delivery, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_append(Attempt, []) == 0


def test_inserted_objects_get_their_ids_so_later_rows_can_refer_to_them(tenant):
    now = timezone.now()
    events = [Event(tenant=tenant, type="webhook.test", data={"n": n}, created_at=now) for n in range(3)]
    endpoint = Endpoint.objects.create(tenant=tenant, url="https://example.test/hook", secret="whsec_x")

    objects_insert(Event, events)
    objects_insert(Delivery, [Delivery(tenant=tenant, event=event, endpoint=endpoint) for event in events])

    assert len({event.pk for event in events}) == 3 and all(event.pk for event in events)
    stored = {delivery.event_id: delivery for delivery in Delivery.objects.filter(endpoint=endpoint)}
    assert {pk: stored[pk].event.data for pk in stored} == {event.pk: event.data for event in events}
    # auto_now_add / auto_now fields are filled in, as save() would.
    assert all(d.created_at is not None and d.updated_at is not None for d in stored.values())
