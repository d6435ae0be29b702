"""Signed file-transfer URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from uuid import UUID

import pytest

from external_orders.adapters.signing import DEFAULT_TTL_SECONDS, UrlSigner
from external_orders.clock import FrozenClock
from external_orders.errors import SigningUnavailable

EXPORT_ID = UUID("0190c8a4-2c3e-7b1a-9f00-1234567890ab")
SECRET = "test-app-secret-0123456789"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def signer(clock: FrozenClock) -> UrlSigner:
    return UrlSigner(SECRET, clock)


def encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def signed(payload: str, secret: str = SECRET) -> str:
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return encode(f"{payload}|{signature}")


def test_a_token_verifies_to_its_export_id(signer: UrlSigner) -> None:
    """A fresh token gives back the export id it was made for."""
    token, _ = signer.token(EXPORT_ID)

    assert signer.verify(token) == EXPORT_ID


def test_the_token_has_the_documented_layout(
    signer: UrlSigner, clock: FrozenClock
) -> None:
    """The token is unpadded base64url of id hex, expiry and HMAC hex."""
    token, expires_at = signer.token(EXPORT_ID, expires_in=60)
    expires = int(clock.now().timestamp()) + 60

    assert "=" not in token
    assert token == signed(f"{EXPORT_ID.hex}|{expires}")
    assert expires_at == clock.now() + timedelta(seconds=60)


def test_the_default_lifetime_is_ten_minutes(
    signer: UrlSigner, clock: FrozenClock
) -> None:
    """Without expires_in a token lives DEFAULT_TTL_SECONDS."""
    _, expires_at = signer.token(EXPORT_ID)

    assert DEFAULT_TTL_SECONDS == 600
    assert expires_at - clock.now() == timedelta(seconds=600)


def test_the_url_appends_the_token_to_the_public_url(signer: UrlSigner) -> None:
    """The URL is the public URL without trailing slash, /topm-export/, token."""
    url, _ = signer.url("https://orders.example/base/", EXPORT_ID)

    prefix = "https://orders.example/base/topm-export/"
    assert url.startswith(prefix)
    assert signer.verify(url.removeprefix(prefix)) == EXPORT_ID


def test_a_token_expires(signer: UrlSigner, clock: FrozenClock) -> None:
    """A token is valid until, not at, its expiry second."""
    token, _ = signer.token(EXPORT_ID, expires_in=600)

    clock.advance(seconds=599)
    assert signer.verify(token) == EXPORT_ID
    clock.advance(seconds=1)
    assert signer.verify(token) is None


def test_a_tampered_token_is_refused(signer: UrlSigner, clock: FrozenClock) -> None:
    """Changing the expiry or the id breaks the signature."""
    token, _ = signer.token(EXPORT_ID)
    export_hex, expires, signature = (
        base64.urlsafe_b64decode(token + "==").decode().split("|")
    )

    later = encode(f"{export_hex}|{int(expires) + 3600}|{signature}")
    other = encode(f"{'0' * 32}|{expires}|{signature}")
    assert signer.verify(later) is None
    assert signer.verify(other) is None


def test_a_token_of_another_secret_is_refused(clock: FrozenClock) -> None:
    """Only tokens signed with this secret are accepted."""
    token, _ = UrlSigner("another-secret", clock).token(EXPORT_ID)

    assert UrlSigner(SECRET, clock).verify(token) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not base64 !",
        "a",
        "abc=",
        "ünïcode",
        "A" * 513,
        encode("only|two"),
        encode("a|b|c|d"),
        encode(f"{EXPORT_ID.hex}|-5|{'0' * 64}"),
        encode(f"{EXPORT_ID.hex.upper()}|1|{'0' * 64}"),
        encode(f"{EXPORT_ID.hex}| 99999999999|{'0' * 64}"),
        base64.urlsafe_b64encode(b"\xff\xfe|\x00|x").decode().rstrip("="),
    ],
)
def test_garbage_is_refused(signer: UrlSigner, token: str) -> None:
    """Malformed, oversized, non-ASCII and wrongly split tokens give None."""
    assert signer.verify(token) is None


def test_a_huge_but_well_signed_token_is_refused(signer: UrlSigner) -> None:
    """Tokens longer than 512 characters are not even decoded."""
    token = signed(f"{EXPORT_ID.hex}|{'9' * 400}")

    assert len(token) > 512
    assert signer.verify(token) is None


def test_a_correctly_signed_token_of_another_layout_is_refused(
    signer: UrlSigner,
) -> None:
    """A valid signature over a malformed payload is still refused."""
    assert signer.verify(signed(f"{EXPORT_ID}|99999999999")) is None


@pytest.mark.parametrize("secret", ["", "   ", None])
def test_no_secret_means_no_signing(clock: FrozenClock, secret: str | None) -> None:
    """Without an application secret no signer can be made."""
    with pytest.raises(SigningUnavailable):
        UrlSigner(secret, clock)


def test_expires_in_must_be_positive(signer: UrlSigner) -> None:
    """A token that is expired from the start is refused as an argument."""
    with pytest.raises(ValueError):
        signer.token(EXPORT_ID, expires_in=0)
