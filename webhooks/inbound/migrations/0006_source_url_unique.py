from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks_inbound", "0005_source_url_secret"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inboundsource",
            name="url_secret",
            field=models.CharField(editable=False, help_text="The source URL's secret part.", max_length=64),
        ),
        migrations.AlterField(
            model_name="inboundsource",
            name="url_secret_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="inboundsource",
            name="kind",
            field=models.CharField(
                choices=[("stream-assistant", "DJ stream assistant"), ("recorder", "Recorder"),
                         ("realcast", "RealCast"), ("audio-frontend", "Audio frontend"),
                         ("analytics", "Analytics reader (read-only)")],
                max_length=20,
            ),
        ),
    ]
