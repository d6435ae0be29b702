"""Integration credentials: key format, argon2 hashes, one verify per check."""

from __future__ import annotations

import re

import pytest

from external_orders.adapters.db.integrations import (
    SecretHasher,
    new_access_key_id,
    new_secret_access_key,
)


@pytest.fixture(scope="module")
def hasher() -> SecretHasher:
    return SecretHasher()


def test_access_key_ids_look_like_shopwares() -> None:
    """SWIA and 26 base32 characters, different every time."""
    keys = {new_access_key_id() for _ in range(50)}

    assert len(keys) == 50
    assert all(re.fullmatch(r"SWIA[A-Z2-7]{26}", key) for key in keys)


def test_secrets_are_long_random_and_url_safe() -> None:
    """A secret has 288 random bits in URL-safe characters."""
    secrets = {new_secret_access_key() for _ in range(50)}

    assert len(secrets) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{48}", secret) for secret in secrets)


def test_hash_is_argon2id_and_hides_the_secret(hasher: SecretHasher) -> None:
    """The stored form is an argon2id hash that does not contain the secret."""
    secret = new_secret_access_key()

    hashed = hasher.hash(secret)

    assert hashed.startswith("$argon2id$")
    assert secret not in hashed
    assert hasher.hash(secret) != hashed


def test_only_the_right_secret_matches(hasher: SecretHasher) -> None:
    """The right secret matches its hash; a wrong one does not."""
    secret = new_secret_access_key()
    hashed = hasher.hash(secret)

    assert hasher.matches(hashed, secret)
    assert not hasher.matches(hashed, secret + "x")
    assert not hasher.matches(hashed, "")


def test_no_hash_never_matches_even_the_dummy_secret(hasher: SecretHasher) -> None:
    """Without a stored hash (unknown id) nothing matches."""
    assert not hasher.matches(None, new_secret_access_key())


def test_a_broken_hash_does_not_match(hasher: SecretHasher) -> None:
    """A corrupt stored hash is a mismatch, not an error."""
    assert not hasher.matches("$argon2id$broken", "secret")
