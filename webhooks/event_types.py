"""Event types owned by the webhooks app and the platform (tenancy, jobs, limits)."""

from webhooks.registry import register_event_type

register_event_type(
    "webhook.test",
    description="A test event sent from the API, the admin or `send_test_webhook`.",
    example={"message": "This is a test event from Streamhook.", "endpoint_id": 1},
)
register_event_type(
    "endpoint.disabled",
    description="An endpoint was disabled: it answered 410, or every delivery failed for the configured period.",
    example={"endpoint_id": 1, "url": "https://example.com/hooks", "reason": "HTTP 410 Gone",
             "disabled_at": "2026-11-22T10:00:00.000Z"},
)
register_event_type(
    "user.created",
    description="A user account was created for the tenant.",
    example={"user_id": 7, "username": "dj@example.com", "email": "dj@example.com"},
)
register_event_type(
    "job.failed",
    description="A background job of ours failed for good (after its retries).",
    example={"job_id": "c0ffee00-0000-4000-8000-000000000000", "job_type": "streams.process_realcast_message",
             "error_message": "ValueError: ...", "attempt_count": 3},
)
register_event_type(
    "api_limit.reached",
    description="A sender or API caller hit its rate limit; sent once per window.",
    example={"limit_type": "inbound_requests", "source_id": 3, "limit_value": 50, "window_seconds": 1,
             "reset_at": "2026-11-22T10:00:01.000Z"},
)
register_event_type(
    "endpoint.failing",
    description="An endpoint's circuit opened after a run of failed deliveries: nothing more is sent to it "
                "until a probe succeeds.",
    example={"endpoint_id": 1, "url": "https://example.com/hooks", "consecutive_failures": 20,
             "last_error": "HTTP 503", "opened_at": "2026-11-22T10:00:00.000Z",
             "next_probe_at": "2026-11-22T10:00:10.000Z"},
)
register_event_type(
    "endpoint.recovered",
    description="An endpoint's circuit closed: a probe succeeded and the deliveries held back are being sent.",
    example={"endpoint_id": 1, "url": "https://example.com/hooks", "opened_at": "2026-11-22T10:00:00.000Z",
             "recovered_at": "2026-11-22T10:05:00.000Z"},
)
register_event_type(
    "delivery.exhausted",
    description="A delivery failed for good: its retries ran out, or the receiver refused it with a 4xx.",
    example={"delivery_id": 42, "event_id": "msg_2a4B6c8D0e", "event_type": "stream.live", "endpoint_id": 1,
             "url": "https://example.com/hooks", "attempts": 8, "last_status_code": 503, "last_error": "HTTP 503",
             "failed_at": "2026-11-22T10:00:00.000Z"},
)
