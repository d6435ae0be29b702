"""Admin API authentication: OAuth2 client credentials and bearer tokens.

An integration trades its access key id and secret access key for an access
token (``POST /api/oauth/token``), as with Shopware's Admin API. The token is
a JWT signed with HS256, valid ``TOKEN_TTL_SECONDS``; expiry is checked
against the service's ``Clock``, and a revoked integration's tokens stop
working at once.

The signing key is derived from ``EXTERNAL_ORDERS_APP_SECRET`` (an HMAC with
a fixed label, so it differs from the key of the signed file-transfer URLs).
Without that secret a random key is drawn per process and a warning logged:
tokens then die with the process and another instance does not accept them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from uuid import UUID

import jwt

from external_orders.adapters.db.integrations import Integration, IntegrationStore
from external_orders.clock import Clock
from external_orders.errors import InvalidAccessToken, InvalidClientCredentials
from external_orders.logs import log_event, register_secrets

TOKEN_TTL_SECONDS = 600
ALGORITHM = "HS256"
ISSUER = "external-orders"
AUDIENCE = "external-orders-admin-api"
MAX_TOKEN_LENGTH = 2048
# Tokens issued by a clock a little ahead (another instance) are still taken.
CLOCK_SKEW_SECONDS = 60
_KEY_LABEL = b"external-orders admin api access tokens v1"


def signing_key(app_secret: str | None) -> bytes:
    """The token key for ``app_secret``; a random one when it is unset."""
    if app_secret is None or not app_secret.strip():
        log_event(
            "Admin API tokens are signed with a per-process key.",
            level=logging.WARNING,
            reason="EXTERNAL_ORDERS_APP_SECRET is not set",
        )
        return secrets.token_bytes(32)
    return hmac.new(app_secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class AccessToken:
    """What ``POST /api/oauth/token`` answers."""

    value: str
    expires_in: int
    token_type: str = "Bearer"


class TokenCodec:
    """Makes and checks access tokens; thread-safe."""

    def __init__(
        self, key: bytes, clock: Clock, ttl_seconds: int = TOKEN_TTL_SECONDS
    ) -> None:
        self._key = key
        self._clock = clock
        self.ttl_seconds = ttl_seconds

    def encode(self, integration_id: UUID) -> str:
        issued_at = int(self._clock.now().timestamp())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": integration_id.hex,
            "iat": issued_at,
            "exp": issued_at + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def decode(self, token: str) -> UUID:
        """The integration id of a genuine, unexpired token.

        Raises ``InvalidAccessToken`` saying ``expired`` or ``invalid``.
        """
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise InvalidAccessToken("invalid")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                # Times are checked below against the Clock, not time.time().
                options={
                    "require": ["iss", "aud", "sub", "iat", "exp"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            integration_id = UUID(hex=claims["sub"])
            issued_at, expires_at = int(claims["iat"]), int(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidAccessToken("invalid") from error

        self._check_times(issued_at, expires_at)
        return integration_id

    def _check_times(self, issued_at: int, expires_at: int) -> None:
        now = self._clock.now().timestamp()
        if now >= expires_at:
            raise InvalidAccessToken("expired")
        if issued_at > now + CLOCK_SKEW_SECONDS:
            raise InvalidAccessToken("invalid")


class Authenticator:
    """Client credentials in, access tokens out, and back to integrations."""

    def __init__(self, store: IntegrationStore, codec: TokenCodec) -> None:
        self.store = store
        self.codec = codec

    def issue(self, client_id: str, client_secret: str) -> AccessToken:
        """A token for an active integration's credentials.

        Raises ``InvalidClientCredentials`` for an unknown access key id, a
        wrong secret or a revoked integration, after the same argon2 work.
        """
        integration = self.store.verify(client_id, client_secret)
        if integration is None:
            raise InvalidClientCredentials()

        register_secrets([client_secret])
        self.store.mark_used(integration.id)
        log_event(
            "Admin API access token issued.",
            integrationId=integration.id.hex,
            accessKeyId=integration.access_key_id,
        )
        token = self.codec.encode(integration.id)
        return AccessToken(token, self.codec.ttl_seconds)

    def authenticate(self, token: str) -> Integration:
        """The active integration a bearer token was issued to.

        Raises ``InvalidAccessToken`` (invalid, expired or revoked).
        """
        integration_id = self.codec.decode(token)
        integration = self.store.find(integration_id)
        if integration is None or not integration.active:
            raise InvalidAccessToken("revoked")
        return integration
