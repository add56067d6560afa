"""`/test`, `/deliveries`, `/stats`, `/recover` and `/api/v1/deliveries/{id}/redeliver`."""

from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks import services
from webhooks.models import Attempt, Delivery, Event

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hook"  # never called: no worker runs in these tests


@pytest.fixture
def endpoint(tenant):
    return services.endpoint_create(tenant=tenant, url=URL)


@pytest.fixture
def foreign_endpoint(other_tenant):
    return services.endpoint_create(tenant=other_tenant, url=URL)


def make_delivery(endpoint, *, status="succeeded", type="stream.live", durations=(), failures=0, created_at=None):
    """A delivery with `failures` failed attempts, then one successful attempt per duration."""
    now = timezone.now()
    event = Event.objects.create(tenant=endpoint.tenant, type=type, data={"n": 1}, created_at=now, fanned_out_at=now)
    delivery = Delivery.objects.create(tenant=endpoint.tenant, event=event, endpoint=endpoint, status=status,
                                       attempt_count=failures + len(durations))
    if created_at:
        Delivery.objects.filter(pk=delivery.pk).update(created_at=created_at)
    number = 0
    for _ in range(failures):
        number += 1
        Attempt.objects.create(delivery=delivery, number=number, started_at=now, duration_ms=5000, url=URL,
                               status_code=500, response_body="boom", request_headers={"webhook-id": event.pk})
    for duration in durations:
        number += 1
        Attempt.objects.create(delivery=delivery, number=number, started_at=now, duration_ms=duration, url=URL,
                               status_code=200, succeeded=True)
    return delivery


# --- test sends -------------------------------------------------------------------------------


def test_test_send_answers_202_with_one_delivery_of_the_example_payload(api_client, endpoint, tenant):
    other = services.endpoint_create(tenant=tenant, url=URL)  # subscribed to everything, must get nothing
    response = api_client.post(f"/api/v1/webhooks/{endpoint.pk}/test", {"event_type": "stream.live"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"delivery_id", "event_id"} and body["event_id"].startswith("msg_")
    delivery = Delivery.objects.get(pk=body["delivery_id"])
    assert (delivery.endpoint, delivery.event_id, delivery.status) == (endpoint, body["event_id"], "pending")
    from webhooks.registry import get_event_type

    assert delivery.event.data == get_event_type("stream.live").example
    assert delivery.event.fanned_out_at is not None  # the sweep must not fan it out to `other`
    assert not Delivery.objects.filter(endpoint=other).exists()


def test_test_send_defaults_to_webhook_test_naming_the_endpoint(api_client, endpoint):
    response = api_client.post(f"/api/v1/webhooks/{endpoint.pk}/test")
    assert response.status_code == 202
    event = Event.objects.get(pk=response.json()["event_id"])
    assert event.type == "webhook.test" and event.data["endpoint_id"] == endpoint.pk


@pytest.mark.parametrize("body", [{"event_type": "no.such"}, {"event_type": ""}, {"event_type": ["x"]},
                                  {"event_type": "x" * 500}])
def test_test_send_with_a_bad_type_names_event_type(api_client, endpoint, body):
    response = api_client.post(f"/api/v1/webhooks/{endpoint.pk}/test", body, format="json")
    assert response.status_code == 400 and "event_type" in response.json(), response.content
    assert not Delivery.objects.exists()


def test_test_send_to_a_disabled_endpoint_is_refused(api_client, endpoint):
    services.endpoint_disable(endpoint=endpoint)
    response = api_client.post(f"/api/v1/webhooks/{endpoint.pk}/test")
    assert response.status_code == 400 and "is_active" in response.json()


def test_another_tenant_cannot_test_my_endpoint(other_api_client, endpoint):
    assert other_api_client.post(f"/api/v1/webhooks/{endpoint.pk}/test").status_code == 404
    assert not Delivery.objects.exists()


# --- delivery lists ---------------------------------------------------------------------------


def test_deliveries_list_each_with_its_attempts_newest_first(api_client, endpoint, foreign_endpoint):
    old = make_delivery(endpoint, durations=[40], failures=2)
    new = make_delivery(endpoint, status="pending", failures=1)
    make_delivery(foreign_endpoint)
    body = api_client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries").json()
    assert body["count"] == 2
    assert [d["id"] for d in body["results"]] == [new.pk, old.pk]
    first = body["results"][1]
    assert first["event_type"] == "stream.live" and first["event_id"] == old.event_id
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in first["attempts"]] == [
        (1, 500, False), (2, 500, False), (3, 200, True)]
    assert first["attempts"][0]["response_body"] == "boom"


def test_deliveries_filters(api_client, endpoint):
    now = timezone.now()
    a = make_delivery(endpoint, status="failed", type="stream.live", created_at=now - timedelta(days=2))
    b = make_delivery(endpoint, status="succeeded", type="stream.offline", created_at=now - timedelta(hours=1))
    c = make_delivery(endpoint, status="failed", type="stream.offline", created_at=now)

    def ids(**params):
        response = api_client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries", params)
        assert response.status_code == 200, response.content
        return {d["id"] for d in response.json()["results"]}

    assert ids(status="failed") == {a.pk, c.pk}
    assert ids(event_type="stream.offline") == {b.pk, c.pk}
    assert ids(status="failed", event_type="stream.offline") == {c.pk}
    assert ids(since=(now - timedelta(hours=2)).isoformat()) == {b.pk, c.pk}
    assert ids(until=(now - timedelta(minutes=30)).isoformat()) == {a.pk, b.pk}
    assert ids(since=(now - timedelta(days=3)).isoformat(), until=(now - timedelta(days=1)).isoformat()) == {a.pk}


def test_deliveries_are_paginated_in_a_fixed_number_of_queries(api_client, endpoint, django_assert_max_num_queries):
    for _ in range(7):
        make_delivery(endpoint, durations=[10], failures=1)
    with django_assert_max_num_queries(8):
        body = api_client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries", {"page_size": 3}).json()
    assert body["count"] == 7 and len(body["results"]) == 3 and body["next"]
    assert api_client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries", {"page": 3, "page_size": 3}).json()[
        "results"]


@pytest.mark.parametrize("params, field", [({"status": "lost"}, "status"), ({"since": "yesterday"}, "since"),
                                           ({"until": "2026-13-45"}, "until")])
def test_bad_delivery_filters_get_400_naming_the_filter(api_client, endpoint, params, field):
    response = api_client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries", params)
    assert response.status_code == 400 and field in response.json()


def test_out_of_range_page_is_404_and_a_page_that_is_no_number_a_400(api_client, endpoint):
    assert api_client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries", {"page": 99}).status_code == 404
    response = api_client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries", {"page": "x"})
    assert response.status_code == 400 and "page" in response.json()


def test_a_delivery_can_be_read_by_its_tenant_only(api_client, other_api_client, endpoint):
    delivery = make_delivery(endpoint, durations=[12])
    response = api_client.get(f"/api/v1/deliveries/{delivery.pk}")
    assert response.status_code == 200 and response.json()["attempts"][0]["duration_ms"] == 12
    assert other_api_client.get(f"/api/v1/deliveries/{delivery.pk}").status_code == 404


# --- stats ------------------------------------------------------------------------------------


def test_stats_add_up_and_latencies_come_from_successful_attempts(api_client, endpoint, foreign_endpoint):
    durations = list(range(10, 210, 10))  # 20 successes: 10..200 ms
    for d in durations:
        make_delivery(endpoint, durations=[d], failures=1)  # the failed 5000 ms tries must not count
    for _ in range(3):
        make_delivery(endpoint, status="failed", failures=2)
    make_delivery(endpoint, status="pending", failures=1)
    make_delivery(foreign_endpoint, durations=[99999])
    stats = api_client.get(f"/api/v1/webhooks/{endpoint.pk}/stats").json()
    assert stats == {
        "total": 24, "succeeded": 20, "failed": 3, "pending": 1,
        "success_rate": round(20 / 23, 4), "avg_latency_ms": 105.0, "p95_latency_ms": 190,
        "circuit": "closed", "consecutive_failures": 0,
    }
    assert stats["total"] == stats["succeeded"] + stats["failed"] + stats["pending"]


def test_stats_of_a_new_endpoint_are_zero_and_null(api_client, endpoint):
    assert api_client.get(f"/api/v1/webhooks/{endpoint.pk}/stats").json() == {
        "total": 0, "succeeded": 0, "failed": 0, "pending": 0,
        "success_rate": None, "avg_latency_ms": None, "p95_latency_ms": None, "circuit": "closed",
        "consecutive_failures": 0,
    }


def test_p95_is_the_nearest_rank(endpoint):
    from webhooks.selectors import endpoint_stats

    make_delivery(endpoint, durations=[7])
    assert endpoint_stats(endpoint=endpoint).p95_latency_ms == 7
    for d in [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]:
        make_delivery(endpoint, durations=[d])
    assert endpoint_stats(endpoint=endpoint).p95_latency_ms == 20  # ceil(0.95 * 21) = 20th smallest


# --- redeliver and recover --------------------------------------------------------------------


def test_redeliver_puts_the_delivery_back_to_pending_with_the_same_event(api_client, endpoint):
    delivery = make_delivery(endpoint, status="failed", failures=3)
    response = api_client.post(f"/api/v1/deliveries/{delivery.pk}/redeliver")
    assert response.status_code == 202, response.content
    assert response.json() == {"delivery_id": delivery.pk, "status": "pending"}
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts.count() == 3
    assert Delivery.objects.count() == 1


def test_another_tenant_cannot_redeliver(other_api_client, endpoint):
    delivery = make_delivery(endpoint, status="failed", failures=1)
    assert other_api_client.post(f"/api/v1/deliveries/{delivery.pk}/redeliver").status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_deliveries_of_a_deleted_endpoint_cannot_be_redelivered_through_the_api(api_client, endpoint):
    delivery = make_delivery(endpoint, status="failed", failures=1)
    services.endpoint_delete(endpoint=endpoint)
    assert api_client.post(f"/api/v1/deliveries/{delivery.pk}/redeliver").status_code == 404


def test_recover_resends_what_failed_since_the_time(api_client, endpoint):
    now = timezone.now()
    old = make_delivery(endpoint, status="failed", failures=1, created_at=now - timedelta(days=2))
    recent = [make_delivery(endpoint, status="failed", failures=1) for _ in range(3)]
    ok = make_delivery(endpoint, durations=[5])
    since = (now - timedelta(hours=1)).isoformat()
    response = api_client.post(f"/api/v1/webhooks/{endpoint.pk}/recover", {"since": since}, format="json")
    assert response.status_code == 202 and response.json() == {"redelivered": 3}
    assert set(Delivery.objects.filter(status="pending").values_list("id", flat=True)) == {d.pk for d in recent}
    assert Delivery.objects.get(pk=old.pk).status == "failed" and Delivery.objects.get(pk=ok.pk).status == "succeeded"


@pytest.mark.parametrize("body", [{}, {"since": "last tuesday"}, {"since": None}, {"since": 5}])
def test_recover_needs_a_valid_since(api_client, endpoint, body):
    response = api_client.post(f"/api/v1/webhooks/{endpoint.pk}/recover", body, format="json")
    assert response.status_code == 400 and "since" in response.json()


def test_another_tenant_cannot_recover_my_endpoint(other_api_client, endpoint):
    make_delivery(endpoint, status="failed", failures=1)
    response = other_api_client.post(f"/api/v1/webhooks/{endpoint.pk}/recover", {"since": "2020-01-01T00:00:00Z"},
                                     format="json")
    assert response.status_code == 404
    assert not Delivery.objects.filter(status="pending").exists()



def test_redeliver_and_recover_refuse_a_disabled_endpoint_naming_is_active(api_client, endpoint):
    """Its pending deliveries would fail without a request; say so instead of answering 202."""
    delivery = make_delivery(endpoint, status="failed", failures=1)
    services.endpoint_disable(endpoint=endpoint)
    response = api_client.post(f"/api/v1/deliveries/{delivery.pk}/redeliver")
    assert response.status_code == 400 and "is_active" in response.json(), response.content
    response = api_client.post(f"/api/v1/webhooks/{endpoint.pk}/recover", {"since": "2020-01-01T00:00:00Z"},
                               format="json")
    assert response.status_code == 400 and "is_active" in response.json(), response.content
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    services.endpoint_enable(endpoint=endpoint)
    assert api_client.post(f"/api/v1/deliveries/{delivery.pk}/redeliver").status_code == 202
