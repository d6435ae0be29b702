"""Access tokens: signing key, expiry by the clock, refusal of forgeries."""

from __future__ import annotations

import logging
import uuid
import warnings
from collections.abc import Iterator

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from external_orders.clock import FrozenClock
from external_orders.errors import InvalidAccessToken
from external_orders.logs import logger
from external_orders.services.auth import (
    AUDIENCE,
    ISSUER,
    TOKEN_TTL_SECONDS,
    TokenCodec,
    signing_key,
)

INTEGRATION = uuid.UUID("6f1d2c3b-4a59-4e8f-9d7c-0b1a2c3d4e5f")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def codec(clock: FrozenClock) -> TokenCodec:
    return TokenCodec(signing_key("unit-test-app-secret"), clock)


@pytest.fixture
def warnings_logged() -> Iterator[list[logging.LogRecord]]:
    """The service log's records while the test runs."""
    handler = _Keeper()
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


class _Keeper(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_token_names_the_integration_it_was_issued_to(codec: TokenCodec) -> None:
    """decode(encode(id)) is the id."""
    assert codec.decode(codec.encode(INTEGRATION)) == INTEGRATION


def test_token_lives_600_seconds_by_the_clock(
    codec: TokenCodec, clock: FrozenClock
) -> None:
    """Valid 599 s after issue; expired from second 600 on."""
    token = codec.encode(INTEGRATION)

    clock.advance(seconds=TOKEN_TTL_SECONDS - 1)
    assert codec.decode(token) == INTEGRATION
    clock.advance(seconds=1)
    with pytest.raises(InvalidAccessToken, match="expired"):
        codec.decode(token)


def test_token_carries_issuer_audience_and_times(
    codec: TokenCodec, clock: FrozenClock
) -> None:
    """The claims say who issued it, for whom, when and until when."""
    claims = jwt.decode(codec.encode(INTEGRATION), options={"verify_signature": False})

    assert (claims["iss"], claims["aud"], claims["sub"]) == (
        ISSUER,
        AUDIENCE,
        INTEGRATION.hex,
    )
    assert claims["exp"] - claims["iat"] == TOKEN_TTL_SECONDS
    assert claims["iat"] == int(clock.now().timestamp())


def claims_for(clock: FrozenClock, **changes: object) -> dict[str, object]:
    issued = int(clock.now().timestamp())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": INTEGRATION.hex,
        "iat": issued,
        "exp": issued + 600,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"sub": "not-a-uuid"},
        {"sub": None},
        {"exp": None},
        {"iat": None},
    ],
)
def test_tokens_with_wrong_or_missing_claims_are_invalid(
    clock: FrozenClock, changes: dict[str, object]
) -> None:
    """Correctly signed tokens with bad claims are refused too."""
    key = signing_key("unit-test-app-secret")
    token = jwt.encode(claims_for(clock, **changes), key, algorithm="HS256")

    with pytest.raises(InvalidAccessToken, match="invalid"):
        TokenCodec(key, clock).decode(token)


def test_token_issued_in_the_future_is_invalid(clock: FrozenClock) -> None:
    """iat more than a minute ahead of the clock is not accepted."""
    key = signing_key("unit-test-app-secret")
    ahead = int(clock.now().timestamp()) + 3600
    token = jwt.encode(
        claims_for(clock, iat=ahead, exp=ahead + 600), key, algorithm="HS256"
    )

    with pytest.raises(InvalidAccessToken, match="invalid"):
        TokenCodec(key, clock).decode(token)


@pytest.mark.parametrize("algorithm", ["none", "HS512"])
def test_only_hs256_is_accepted(clock: FrozenClock, algorithm: str) -> None:
    """alg none and other HMAC algorithms are refused even with the right key."""
    key = signing_key("unit-test-app-secret")
    signing = None if algorithm == "none" else key
    with warnings.catch_warnings():
        # PyJWT warns that 32 bytes are short for HS512: the key is ours.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        token = jwt.encode(claims_for(clock), signing, algorithm=algorithm)

    with pytest.raises(InvalidAccessToken):
        TokenCodec(key, clock).decode(token)


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "a.b.c", "é.é.é", "x" * 5000, "eyJhbGciOiJIUzI1NiJ9.e30."],
)
def test_garbage_is_invalid(codec: TokenCodec, garbage: str) -> None:
    """Anything that is no token of ours raises InvalidAccessToken."""
    with pytest.raises(InvalidAccessToken):
        codec.decode(garbage)


def test_key_comes_from_the_app_secret(clock: FrozenClock) -> None:
    """Two processes with one app secret accept each other's tokens."""
    token = TokenCodec(signing_key("shared"), clock).encode(INTEGRATION)

    assert TokenCodec(signing_key("shared"), clock).decode(token) == INTEGRATION
    with pytest.raises(InvalidAccessToken):
        TokenCodec(signing_key("other"), clock).decode(token)


def test_key_is_not_the_app_secret_itself() -> None:
    """The token key is derived, so it differs from the URL-signing key."""
    assert signing_key("shared") != b"shared"
    assert len(signing_key("shared")) == 32


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_without_app_secret_the_key_is_random_and_a_warning_logged(
    secret: str | None, warnings_logged: list[logging.LogRecord]
) -> None:
    """No app secret: a fresh random key each time, and one warning."""
    first, second = signing_key(secret), signing_key(secret)

    assert first != second and len(first) == 32
    messages = [record.getMessage() for record in warnings_logged]
    assert messages.count("Admin API tokens are signed with a per-process key.") == 2
    assert {record.levelno for record in warnings_logged} == {logging.WARNING}
