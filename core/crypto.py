"""Secrets encrypted at rest: Fernet tokens in the column, plaintext only where it is used.

Keys come from `STREAMHOOK_ENCRYPTION_KEYS` (comma-separated Fernet keys): the first encrypts,
every one decrypts, so a new key is put first, `rotate_encryption_key` re-encrypts every secret
with it, and only then is the old key removed from the list.

A column made with `EncryptedTextField` or `EncryptedListField` loads as `Sealed` values: the
token, not the secret. Nothing decrypts on load, so a model printed, cached, logged or shown in
the admin carries no plaintext; the code that signs, verifies or shows a secret to its owner
calls `reveal()`. A plain `str` assigned to such a field is a new secret and is encrypted on save.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.fernet import Fernet, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction


class Sealed:
    """An encrypted secret as it sits in the database. Its repr never shows the plaintext."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return f"Sealed({self.token[:12]}…)"

    def __eq__(self, other) -> bool:
        return isinstance(other, Sealed) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)

    def encrypted_at(self) -> datetime:
        """When the token was made (Fernet keeps it in clear): shown instead of the secret."""
        return datetime.fromtimestamp(keys().extract_timestamp(self.token.encode()), UTC)

    def reveal(self) -> str:
        return decrypt(self.token)


@functools.lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("STREAMHOOK_ENCRYPTION_KEYS names no key")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "STREAMHOOK_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64-encoded bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None


def keys() -> MultiFernet:
    return _multi_fernet(tuple(settings.STREAMHOOK_ENCRYPTION_KEYS))


def parse_keys(raw: str) -> list[str]:
    return [key.strip() for key in raw.split(",") if key.strip()]


def encrypt(plaintext: str) -> str:
    return keys().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """The plaintext; raises cryptography's InvalidToken when no configured key made the token."""
    return keys().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same secret encrypted with the current first key (MultiFernet.rotate)."""
    return keys().rotate(token.encode()).decode()


def reveal(value: "Sealed | str") -> str:
    """The plaintext of a field's value: a `Sealed` is decrypted, a not yet saved `str` is the secret itself."""
    return value.reveal() if isinstance(value, Sealed) else value


def seal(value: "Sealed | str") -> str:
    """The token to store: a `Sealed` keeps its token; a `str` is a new secret, encrypted now."""
    if isinstance(value, Sealed):
        return value.token
    return encrypt(value) if value else value


class EncryptedTextField(models.TextField):
    """A secret string stored as a Fernet token; `""` stays empty (no secret)."""

    def from_db_value(self, value, expression, connection):
        return Sealed(value) if value else value

    def get_prep_value(self, value):
        return super().get_prep_value(seal(value) if value is not None else value)

    def to_python(self, value):
        return value  # never str() a Sealed: that would store its repr

    def value_to_string(self, obj) -> str:
        value = self.value_from_object(obj)
        return seal(value) if value is not None else ""


class EncryptedListField(models.JSONField):
    """A JSON list of secret strings, each stored as its own Fernet token."""

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        return [Sealed(token) for token in value] if isinstance(value, list) else value

    def get_prep_value(self, value):
        if isinstance(value, list | tuple):
            value = [seal(item) for item in value]
        return super().get_prep_value(value)

    def value_to_string(self, obj) -> str:
        value = self.value_from_object(obj)
        return [seal(item) for item in value] if isinstance(value, list) else value


# --- Key rotation ----------------------------------------------------------------------------------


@dataclass
class RotationCount:
    model: str
    rows: int = 0
    secrets: int = 0


def encrypted_fields() -> dict[type[models.Model], list[str]]:
    """Every installed model's encrypted columns, so a new one is rotated without being listed here."""
    found: dict[type[models.Model], list[str]] = {}
    for model in apps.get_models():
        names = [f.name for f in model._meta.get_fields()
                 if isinstance(f, EncryptedTextField | EncryptedListField)]
        if names:
            found[model] = names
    return found


def secrets_rotate(*, batch_size: int = 500, progress: Callable[[RotationCount], None] | None = None,
                   ) -> list[RotationCount]:
    """Re-encrypt every stored secret with the first key (MultiFernet.rotate), a batch of rows at a time.

    Each batch is read and written under row locks in one transaction, so a secret rotated by its owner
    meanwhile is neither lost nor overwritten. Raises InvalidToken when a secret was made with a key no
    longer in STREAMHOOK_ENCRYPTION_KEYS (nothing of that batch is written).
    """
    counts = []
    for model, names in encrypted_fields().items():
        count = RotationCount(model=model._meta.label)
        last_pk = None
        while True:
            with transaction.atomic():
                rows = model._default_manager.order_by("pk").select_for_update()
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.values_list("pk", *names)[:batch_size])
                for pk, *values in batch:
                    changes = {}
                    for name, value in zip(names, values, strict=True):
                        if isinstance(value, Sealed):
                            changes[name] = Sealed(rotate(value.token))
                            count.secrets += 1
                        elif isinstance(value, list) and value:
                            changes[name] = [Sealed(rotate(seal(item))) for item in value]
                            count.secrets += len(value)
                    if changes:
                        model._default_manager.filter(pk=pk).update(**changes)
            if not batch:
                break
            last_pk = batch[-1][0]
            count.rows += len(batch)
            if progress is not None:
                progress(count)
        counts.append(count)
    return counts
