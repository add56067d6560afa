"""Encrypt the inbound sources' signing secrets at rest, each list item its own token (core/crypto.py).

The column stays JSON; only its items change. Reversed, they are decrypted back to plain text.
"""

from django.db import migrations

import core.crypto


def _convert(apps, convert) -> None:
    InboundSource = apps.get_model("webhooks_inbound", "InboundSource")
    for pk, secrets in InboundSource.objects.values_list("pk", "signing_secrets").iterator():
        if secrets:
            InboundSource.objects.filter(pk=pk).update(signing_secrets=[convert(secret) for secret in secrets])


def encrypt_secrets(apps, schema_editor):
    _convert(apps, core.crypto.encrypt)


def decrypt_secrets(apps, schema_editor):
    _convert(apps, core.crypto.decrypt)


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks_inbound", "0006_source_url_unique"),
    ]

    operations = [
        migrations.RunPython(encrypt_secrets, decrypt_secrets),
        migrations.AlterField(
            model_name="inboundsource", name="signing_secrets",
            field=core.crypto.EncryptedListField(
                blank=True, default=list,
                help_text="Accepted signing secrets, current first. Empty: no signature required."),
        ),
    ]
