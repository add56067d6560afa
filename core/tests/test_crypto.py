"""Sealed values: plaintext only on reveal(), never in a repr; rotation keeps the secret, changes the key."""

import copy

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured

from core.crypto import Sealed, decrypt, encrypt, reveal, rotate, seal

SECRET = "whsec_dGhpcy1pcy1hLXNlY3JldA=="


def test_a_sealed_secret_shows_no_plaintext_until_revealed():
    sealed = Sealed(encrypt(SECRET))
    assert SECRET not in repr(sealed) and "dGhpcy1" not in f"{sealed!r} {sealed}"
    assert reveal(sealed) == SECRET
    assert copy.copy(sealed) == sealed == copy.deepcopy(sealed)  # the inbound source cache copies sources


def test_seal_encrypts_a_new_secret_and_keeps_a_sealed_one():
    token = seal(SECRET)
    assert token != SECRET and decrypt(token) == SECRET
    assert seal(Sealed(token)) == token
    assert seal("") == ""  # no secret stays no secret
    assert reveal("plain, not saved yet") == "plain, not saved yet"


def test_rotation_re_encrypts_with_the_first_key_and_the_old_key_still_reads(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.STREAMHOOK_ENCRYPTION_KEYS = [old]
    token = encrypt(SECRET)
    settings.STREAMHOOK_ENCRYPTION_KEYS = [new, old]
    assert decrypt(token) == SECRET
    rotated = rotate(token)
    assert Fernet(new).decrypt(rotated.encode()).decode() == SECRET
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(rotated.encode())


def test_a_malformed_key_is_a_configuration_error_that_does_not_echo_it(settings):
    settings.STREAMHOOK_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured) as caught:
        encrypt(SECRET)
    assert "not-a-fernet-key" not in str(caught.value)
