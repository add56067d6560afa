"""Give every inbound source a source URL secret (existing sources get one each)."""

import hashlib
import secrets

from django.db import migrations, models


def fill_url_secrets(apps, schema_editor):
    InboundSource = apps.get_model("webhooks_inbound", "InboundSource")
    for pk in InboundSource.objects.filter(url_secret_hash__isnull=True).values_list("pk", flat=True):
        secret = secrets.token_urlsafe(32)
        # update(), not save(): only these two columns are written.
        InboundSource.objects.filter(pk=pk).update(
            url_secret=secret, url_secret_hash=hashlib.sha256(secret.encode()).hexdigest()
        )


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks_inbound", "0004_drop_indexes_others_lead"),
    ]

    operations = [
        migrations.AddField(
            model_name="inboundsource",
            name="url_secret",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="inboundsource",
            name="url_secret_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill_url_secrets, migrations.RunPython.noop),
    ]
