"""Done when: `SELECT` on every secret column shows ciphertext, and the migration encrypts what was stored
in clear (and its reverse decrypts it)."""

import json

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.crypto import encrypted_fields, reveal
from webhooks.inbound.models import InboundSource
from webhooks.models import Endpoint

URL = "http://127.0.0.1:9/hook"  # test settings allow loopback targets; nothing is sent


SELECTS = {
    "endpoint": "SELECT secret, previous_secret FROM webhooks_endpoint ORDER BY id",
    "source": "SELECT signing_secrets FROM webhooks_inbound_inboundsource ORDER BY id",
    "source_url": "SELECT url_secret FROM webhooks_inbound_inboundsource ORDER BY id",
}


def raw_rows(table: str) -> list[tuple]:
    """What `SELECT` shows, past the ORM and its field conversions."""
    with connection.cursor() as cursor:
        cursor.execute(SELECTS[table])
        return cursor.fetchall()


def as_list(value) -> list:
    return json.loads(value) if isinstance(value, str) else value


def assert_ciphertext(stored: str, plaintext: str) -> None:
    assert plaintext not in stored and plaintext.removeprefix("whsec_") not in stored
    assert Fernet(settings.STREAMHOOK_ENCRYPTION_KEYS[0]).decrypt(stored.encode()).decode() == plaintext


def test_every_secret_column_is_an_encrypted_field():
    columns = {(model, name) for model, names in encrypted_fields().items() for name in names}
    assert columns == {(Endpoint, "secret"), (Endpoint, "previous_secret"), (InboundSource, "signing_secrets"),
                       (InboundSource, "url_secret")}


@pytest.mark.django_db
def test_select_on_every_secret_column_shows_ciphertext(api_client):
    created = api_client.post("/api/v1/webhooks", {"url": URL, "events": []}, format="json").json()
    first = created["secret"]
    second = api_client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret").json()["secret"]
    assert api_client.get(f"/api/v1/webhooks/{created['id']}/secret").json() == {"secret": second}
    source = api_client.post("/api/v1/inbound-sources", {"name": "rc", "kind": "realcast",
                                                         "signing_secret": "rc-secret-one-123"}, format="json")
    assert source.status_code == 201, source.content
    api_client.patch(f"/api/v1/inbound-sources/{source.json()['id']}", {"signing_secret": "rc-secret-two-456"},
                     format="json")

    [(secret, previous)] = raw_rows("endpoint")
    assert_ciphertext(secret, second)
    assert_ciphertext(previous, first)
    [(stored_list,)] = raw_rows("source")
    stored = as_list(stored_list)
    assert len(stored) == 2
    assert_ciphertext(stored[0], "rc-secret-two-456")
    assert_ciphertext(stored[1], "rc-secret-one-123")


@pytest.mark.django_db
def test_a_secret_assigned_in_clear_through_the_orm_is_stored_encrypted(tenant):
    endpoint = Endpoint.objects.create(tenant=tenant, url=URL, secret="whsec_c2VjcmV0LWJ5dGVz")
    endpoint.description = "saved again"
    endpoint.save()  # a full save keeps the token as it is: not encrypted twice
    [(secret, _)] = raw_rows("endpoint")
    assert_ciphertext(secret, "whsec_c2VjcmV0LWJ5dGVz")
    assert reveal(Endpoint.objects.get().secret) == "whsec_c2VjcmV0LWJ5dGVz"
    assert "c2VjcmV0" not in repr(Endpoint.objects.get().secret)


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_clear_secrets_and_its_reverse_decrypts_them(tenant):
    before = [("webhooks", "0010_delivery_tenant_created_index"), ("webhooks_inbound", "0006_source_url_unique")]
    after = [("webhooks", "0011_encrypt_endpoint_secrets"), ("webhooks_inbound", "0008_encrypt_url_secret")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old.get_model("webhooks", "Endpoint").objects.create(
        tenant_id=tenant.pk, url=URL, secret="whsec_Y2xlYXI=", previous_secret="whsec_b2xk", events=[])
    old.get_model("webhooks_inbound", "InboundSource").objects.create(
        tenant_id=tenant.pk, name="rc", kind="realcast", key_prefix="k", key_hash="h" * 64,
        signing_secrets=["clear-one", "clear-two"], url_secret="clear-url-part", url_secret_hash="u" * 64)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        [(secret, previous)] = raw_rows("endpoint")
        assert_ciphertext(secret, "whsec_Y2xlYXI=")
        assert_ciphertext(previous, "whsec_b2xk")
        [(stored,)] = raw_rows("source")
        assert [reveal(s) for s in InboundSource.objects.get().signing_secrets] == ["clear-one", "clear-two"]
        assert "clear-one" not in json.dumps(as_list(stored))
        [(url_secret,)] = raw_rows("source_url")
        assert_ciphertext(url_secret, "clear-url-part")

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        assert raw_rows("endpoint") == [("whsec_Y2xlYXI=", "whsec_b2xk")]
        assert as_list(raw_rows("source")[0][0]) == ["clear-one", "clear-two"]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
