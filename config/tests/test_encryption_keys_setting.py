"""Production refuses to start without encryption keys, or with a malformed one, in one clear line."""

from config.tests.test_startup_errors import PRODUCTION, _manage, _one_line


def test_production_without_encryption_keys_fails_with_one_line(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "STREAMHOOK_ENCRYPTION_KEYS"}
    assert _one_line(_manage(tmp_path, "check", **env)).startswith(
        "configuration error: STREAMHOOK_ENCRYPTION_KEYS must be set in the environment"
    )


def test_production_with_a_malformed_encryption_key_fails_with_one_line(tmp_path):
    line = _one_line(_manage(tmp_path, "check", **{**PRODUCTION, "STREAMHOOK_ENCRYPTION_KEYS": "not-a-key"}))
    assert line.startswith("configuration error: STREAMHOOK_ENCRYPTION_KEYS holds a value that is not a Fernet key")
    assert "not-a-key" not in line  # a key is never echoed
