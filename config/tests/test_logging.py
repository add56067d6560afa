"""What the console shows under the development settings (`make run`): each record once."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LOG_TWO = """
import django
django.setup()
import logging
logging.getLogger("django.request").warning("Unauthorized: /api/v1/webhooks")
logging.getLogger("django.utils.autoreload").info("Watching for file changes with StatReloader")
"""


def test_a_django_warning_reaches_the_development_console_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", STREAMHOOK_VAR_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", LOG_TWO], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    console = done.stdout + done.stderr
    assert console.count("Unauthorized: /api/v1/webhooks") == 1, console
    assert console.count("Watching for file changes") == 1, console
    assert "WARNING django.request Unauthorized" in console  # the project's format, not Django's bare one
