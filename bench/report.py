"""Writes a benchmark's figures into its own section of docs/benchmarks.md.

Each benchmark owns the section between `<!-- bench:NAME -->` markers, so benchmarks can be
re-run in any order without clobbering each other's figures.
"""

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nMeasured on the 2-core development machine. Each section says how to reproduce it.\n"


def write_section(name: str, markdown: str, *, after: str | None = None) -> None:
    """Replace section `name`; a new one goes after section `after` if it exists, else at the end."""
    text = DOC.read_text() if DOC.exists() else HEADER
    command = " ".join(["python", *sys.argv])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = f"<!-- bench:{name} -->\n{markdown.strip()}\n\n_Command:_ `{command}` — {stamp}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    anchor = f"<!-- /bench:{after} -->" if after else None
    if pattern.search(text):
        text = pattern.sub(lambda _: body, text)
    elif anchor and anchor in text:
        text = text.replace(anchor, anchor + "\n\n" + body, 1)
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
