"""The failure counter behind the 429s for wrong tokens and keys."""

import uuid

import pytest

from core.guessing import credential_failure_record


@pytest.fixture(autouse=True)
def _low_limit(settings):
    settings.STREAMHOOK_BAD_CREDENTIALS_LIMIT = 3
    settings.STREAMHOOK_BAD_CREDENTIALS_WINDOW = 60


def _scope() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"  # counters live in the shared cache: each test its own


def test_failures_past_the_limit_wait_until_the_window_ends():
    scope = _scope()
    answers = [credential_failure_record(scope=scope, address="198.51.100.7", now=6000.0) for _ in range(5)]
    assert answers == [None, None, None, 60, 60]
    assert credential_failure_record(scope=scope, address="198.51.100.7", now=6045.5) == 15
    assert credential_failure_record(scope=scope, address="198.51.100.7", now=6060.0) is None  # a new window


def test_addresses_are_counted_apart_and_ipv6_per_64():
    scope = _scope()
    for _ in range(3):
        credential_failure_record(scope=scope, address="2001:db8:1:2::10", now=6000.0)
    assert credential_failure_record(scope=scope, address="2001:db8:1:2:ffff::99", now=6000.0) == 60
    assert credential_failure_record(scope=scope, address="2001:db8:1:3::10", now=6000.0) is None
    assert credential_failure_record(scope=scope, address="198.51.100.8", now=6000.0) is None
