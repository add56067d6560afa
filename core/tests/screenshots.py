"""Where browser tests save their screenshots.

A temporary folder, so a test run leaves the checkout as it was; `make screenshots` sets
STREAMHOOK_SCREENSHOTS to docs/screenshots to refresh the pictures the docs show.
"""

import functools
import os
import tempfile
from pathlib import Path


@functools.cache
def _folder() -> Path:
    chosen = os.environ.get("STREAMHOOK_SCREENSHOTS")
    folder = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="streamhook-screenshots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot_path(filename: str) -> str:
    return str(_folder() / filename)
