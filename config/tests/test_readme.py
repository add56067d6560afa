"""The README's configuration table must name every environment variable the code reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_NAME = r"""["']([A-Z][A-Z0-9_]+)["']"""
_READS = [
    re.compile(rf"\benv(?:\.\w+)?\(\s*{_NAME}"),
    re.compile(rf"\benv_(?:bool|required)\(\s*{_NAME}"),
    re.compile(rf"os\.environ\.(?:get|setdefault)\(\s*{_NAME}"),
    re.compile(rf"os\.getenv\(\s*{_NAME}"),
    re.compile(rf"os\.environ\[\s*{_NAME}\s*\](?!\s*=[^=])"),
]
# Read by the Makefile/Procfile rather than by Python.
_SHELL_VARIABLES = {"PORT"}
# Set, not configured: conftest.py turns on Django's own switch for Playwright's event loop.
_NOT_CONFIGURATION = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def _python_sources():
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {".venv", "var", "bench", "tests", "migrations", "node_modules"}:
            continue  # bench/ documents its own knobs in docs/benchmarks.md; tests set, not read
        yield path


def variables_read() -> dict[str, str]:
    found = {}
    for path in _python_sources():
        text = path.read_text()
        for pattern in _READS:
            for match in pattern.finditer(text):
                found.setdefault(match.group(1), str(path.relative_to(ROOT)))
    return found


def documented() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_scanner_sees_the_variables_it_must():
    seen = variables_read()
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "STREAMHOOK_ALLOW_SQLITE"} <= set(seen)


def test_every_environment_variable_the_code_reads_is_in_the_readme_table():
    missing = {name: where for name, where in variables_read().items()
               if name not in documented() and name not in _NOT_CONFIGURATION}
    assert missing == {}, "add these to README.md's configuration table"
    assert _SHELL_VARIABLES <= documented()


def test_the_readme_table_lists_nothing_the_code_does_not_read():
    stale = documented() - set(variables_read()) - _SHELL_VARIABLES - _NOT_CONFIGURATION
    assert stale == set()
