"""Encrypt the endpoints' signing secrets at rest (core/crypto.py).

Widen the columns to text, encrypt every stored secret with the first STREAMHOOK_ENCRYPTION_KEYS
key, then declare the columns encrypted (no SQL: the column type stays text). Reversed, the
secrets are decrypted back to plain text, which needs the key that encrypted them.
"""

from django.db import migrations, models

import core.crypto


def encrypt_secrets(apps, schema_editor):
    Endpoint = apps.get_model("webhooks", "Endpoint")
    for pk, secret, previous in Endpoint.objects.values_list("pk", "secret", "previous_secret").iterator():
        Endpoint.objects.filter(pk=pk).update(
            secret=core.crypto.encrypt(secret) if secret else secret,
            previous_secret=core.crypto.encrypt(previous) if previous else previous,
        )


def decrypt_secrets(apps, schema_editor):
    Endpoint = apps.get_model("webhooks", "Endpoint")
    for pk, secret, previous in Endpoint.objects.values_list("pk", "secret", "previous_secret").iterator():
        Endpoint.objects.filter(pk=pk).update(
            secret=core.crypto.decrypt(secret) if secret else secret,
            previous_secret=core.crypto.decrypt(previous) if previous else previous,
        )


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0010_delivery_tenant_created_index"),
    ]

    operations = [
        migrations.AlterField(model_name="endpoint", name="secret", field=models.TextField()),
        migrations.AlterField(model_name="endpoint", name="previous_secret",
                              field=models.TextField(blank=True, default="")),
        migrations.RunPython(encrypt_secrets, decrypt_secrets),
        migrations.AlterField(model_name="endpoint", name="secret", field=core.crypto.EncryptedTextField()),
        migrations.AlterField(model_name="endpoint", name="previous_secret",
                              field=core.crypto.EncryptedTextField(blank=True, default="")),
    ]
