"""Encrypt the source URLs' secret parts at rest, like the signing secrets (core/crypto.py).

Lookups go by `url_secret_hash`; the secret itself is kept only to show the URL to owners again.
Reversed, the secrets are decrypted back to plain text, which needs the key that encrypted them.
"""

from django.db import migrations, models

import core.crypto


def encrypt(apps, schema_editor):
    InboundSource = apps.get_model("webhooks_inbound", "InboundSource")
    for pk, secret in InboundSource.objects.values_list("pk", "url_secret").iterator():
        InboundSource.objects.filter(pk=pk).update(url_secret=core.crypto.encrypt(secret))


def decrypt(apps, schema_editor):
    InboundSource = apps.get_model("webhooks_inbound", "InboundSource")
    for pk, secret in InboundSource.objects.values_list("pk", "url_secret").iterator():
        InboundSource.objects.filter(pk=pk).update(url_secret=core.crypto.decrypt(secret))


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks_inbound", "0007_encrypt_signing_secrets"),
    ]

    operations = [
        migrations.AlterField(model_name="inboundsource", name="url_secret",
                              field=models.TextField(editable=False)),
        migrations.RunPython(encrypt, decrypt),
        migrations.AlterField(
            model_name="inboundsource", name="url_secret",
            field=core.crypto.EncryptedTextField(editable=False,
                                                 help_text="The source URL's secret part (encrypted at rest)."),
        ),
    ]
