"""Signed, expiring URLs from which SAN6 downloads an export's XML.

With the ``filetransferurl`` strategy SAN6 fetches the order XML itself,
without logging in, so the URL carries its own proof: a token made of the
export id, the moment it expires and an HMAC-SHA256 over both, keyed with
the application secret. The token is
``base64url("<export id hex>|<expires at, unix seconds>|<hmac hex>")``
without padding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import UTC, datetime
from uuid import UUID

from external_orders.clock import Clock
from external_orders.errors import SigningUnavailable

DEFAULT_TTL_SECONDS = 600
MAX_TOKEN_LENGTH = 512
PATH_PREFIX = "/topm-export/"

_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_EXPORT_ID = re.compile(r"[0-9a-f]{32}")
_EXPIRES_AT = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class UrlSigner:
    """Makes and checks file-transfer tokens; safe to share between threads."""

    def __init__(self, secret: str | None, clock: Clock) -> None:
        """Raises ``SigningUnavailable`` when ``secret`` is empty or blank."""
        if not secret or not secret.strip():
            raise SigningUnavailable()
        self._key = secret.encode("utf-8")
        self._clock = clock

    def token(
        self, export_id: UUID, expires_in: int = DEFAULT_TTL_SECONDS
    ) -> tuple[str, datetime]:
        """A token for ``export_id`` valid ``expires_in`` seconds, and its end."""
        if expires_in <= 0:
            raise ValueError("expires_in must be a positive number of seconds")

        expires_at = int(self._clock.now().timestamp()) + expires_in
        payload = f"{export_id.hex}|{expires_at}"
        raw = f"{payload}|{self._sign(payload)}".encode("ascii")
        token = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
        return token, datetime.fromtimestamp(expires_at, UTC)

    def url(
        self,
        public_url: str,
        export_id: UUID,
        expires_in: int = DEFAULT_TTL_SECONDS,
    ) -> tuple[str, datetime]:
        """``<public_url>/topm-export/<token>`` and the moment it expires."""
        token, expires_at = self.token(export_id, expires_in)
        return public_url.rstrip("/") + PATH_PREFIX + token, expires_at

    def verify(self, token: str) -> UUID | None:
        """The export id of a genuine, unexpired token; None for anything else."""
        parts = _decode(token)
        if parts is None:
            return None

        export_hex, expires_at, signature = parts
        expected = self._sign(f"{export_hex}|{expires_at}")
        if not hmac.compare_digest(expected, signature):
            return None

        if self._clock.now().timestamp() >= int(expires_at):
            return None
        return UUID(hex=export_hex)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).hexdigest()


def _decode(token: object) -> tuple[str, str, str] | None:
    """The three well-formed parts of a token, unchecked; None if malformed."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    if not token.isascii() or _TOKEN.fullmatch(token) is None:
        return None

    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        text = raw.decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None

    parts = text.split("|")
    if len(parts) != 3:
        return None
    export_hex, expires_at, signature = parts
    if not (
        _EXPORT_ID.fullmatch(export_hex)
        and _EXPIRES_AT.fullmatch(expires_at)
        and _SIGNATURE.fullmatch(signature)
    ):
        return None
    return export_hex, expires_at, signature
