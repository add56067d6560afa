"""The portal runs under a `script-src 'self'` Content-Security-Policy: no inline script, no inline handler."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
EVAL_TRIGGER = re.compile(r'hx-(?:trigger|vals|on)[^=]*="[^"]*(?:\[|js:|javascript:)', re.I)


def test_templates_have_no_inline_script_handler_or_evaluated_htmx():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert templates
    for path in templates:
        text = path.read_text()
        assert not INLINE_SCRIPT.search(text), f"{path.name}: inline <script>"
        assert not INLINE_HANDLER.search(text), f"{path.name}: inline event handler"
        assert not EVAL_TRIGGER.search(text), f"{path.name}: an htmx attribute that needs eval"


def test_the_checks_catch_what_they_look_for():
    assert INLINE_SCRIPT.search('<script>alert(1)</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/x.js" defer></script>')
    assert INLINE_HANDLER.search('<button onclick="x()">')
    assert EVAL_TRIGGER.search('<div hx-trigger="every 2s [document.visibilityState]">')
