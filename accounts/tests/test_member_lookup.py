"""The member a recorder post names: remembered between posts, forgotten as soon as membership changes."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.member_lookup import member_by_email
from accounts.models import Membership

pytestmark = pytest.mark.django_db


def _user_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if 'FROM "auth_user"' in q["sql"]]


@pytest.fixture
def member(tenant):
    user = get_user_model().objects.create_user(username="rec", email="Rec.Owner@example.com", password="x-123456789")
    Membership.objects.create(tenant=tenant, user=user)
    return user


def test_the_second_lookup_asks_no_query(tenant, member):
    with CaptureQueriesContext(connection) as first:
        assert member_by_email(tenant=tenant, email="rec.owner@example.com").pk == member.pk
    with CaptureQueriesContext(connection) as second:
        assert member_by_email(tenant=tenant, email="REC.OWNER@example.com").pk == member.pk
    assert len(_user_queries(first.captured_queries)) == 1
    assert _user_queries(second.captured_queries) == []


def test_a_removed_member_is_not_found_at_once(tenant, member):
    assert member_by_email(tenant=tenant, email=member.email) is not None
    Membership.objects.get(tenant=tenant, user=member).delete()
    assert member_by_email(tenant=tenant, email=member.email) is None


def test_a_deactivated_user_is_not_found_at_once(tenant, member):
    assert member_by_email(tenant=tenant, email=member.email) is not None
    member.is_active = False
    member.save()
    assert member_by_email(tenant=tenant, email=member.email) is None


def test_another_tenants_member_is_not_found(tenant, other_tenant, member):
    assert member_by_email(tenant=other_tenant, email=member.email) is None
    assert member_by_email(tenant=tenant, email=member.email).pk == member.pk
    assert member_by_email(tenant=other_tenant, email=member.email) is None


def test_a_new_member_is_found_at_once_after_a_miss(tenant):
    assert member_by_email(tenant=tenant, email="late@example.com") is None
    user = get_user_model().objects.create_user(username="late", email="late@example.com", password="x-123456789")
    Membership.objects.create(tenant=tenant, user=user)
    assert member_by_email(tenant=tenant, email="late@example.com").pk == user.pk


def test_zero_seconds_asks_every_time(tenant, member, settings):
    settings.ACCOUNTS_MEMBER_CACHE_SECONDS = 0
    member_by_email(tenant=tenant, email=member.email)
    with CaptureQueriesContext(connection) as captured:
        member_by_email(tenant=tenant, email=member.email)
    assert len(_user_queries(captured.captured_queries)) == 1


def test_a_login_stamp_asks_nothing_and_an_address_change_forgets(tenant, member):
    with CaptureQueriesContext(connection) as captured:
        member.save(update_fields=["last_login"])
    assert len(captured.captured_queries) == 1  # the UPDATE alone: no membership lookup to forget entries
    assert member_by_email(tenant=tenant, email=member.email) is not None
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert member_by_email(tenant=tenant, email=member.email) is None
