"""Admin API integrations: the ``integration`` table and its secrets.

An integration is a client of the Admin API, like Shopware's: an access key
id (``SWIA`` and 26 base32 characters) and a secret access key, given to
the operator once. Only an argon2id hash of the secret is stored; argon2's
errors stay inside this module.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from external_orders.adapters.db.schema import integration as t
from external_orders.clock import Clock
from external_orders.errors import IntegrationNotFound, InvalidInput

ACCESS_KEY_PREFIX = "SWIA"
ACCESS_KEY_LENGTH = len(ACCESS_KEY_PREFIX) + 26
SECRET_BYTES = 36
MAX_LABEL_LENGTH = 255


@dataclass(frozen=True)
class Integration:
    """One row of ``integration``, without its secret hash."""

    id: UUID
    label: str
    access_key_id: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class NewIntegration:
    """A created integration and its secret, which nothing else will show."""

    integration: Integration
    secret_access_key: str


class SecretHasher:
    """argon2id hashes of secret access keys; thread-safe.

    The default cost is argon2-cffi's (RFC 9106 low-memory profile: 64 MiB,
    3 passes); tests pass a cheaper ``PasswordHasher`` to stay fast.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def matches(self, secret_hash: str | None, secret: str) -> bool:
        """Whether ``secret`` is the one of ``secret_hash``; always one verify.

        With ``secret_hash`` None (no such integration) a dummy hash of the
        same cost is checked, so an unknown access key costs as much time
        as a wrong secret.
        """
        try:
            self._hasher.verify(secret_hash or self._dummy_hash, secret)
        except (VerificationError, InvalidHashError):
            return False
        return secret_hash is not None

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(SECRET_BYTES))


def new_access_key_id() -> str:
    raw = base64.b32encode(secrets.token_bytes(20)).decode("ascii")
    return ACCESS_KEY_PREFIX + raw[: ACCESS_KEY_LENGTH - len(ACCESS_KEY_PREFIX)]


def new_secret_access_key() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def _integration(row: sa.Row[Any]) -> Integration:
    values = dict(row._mapping)
    values.pop("secret_hash", None)
    return Integration(**values)


class IntegrationStore:
    def __init__(self, engine: sa.Engine, clock: Clock, hasher: SecretHasher) -> None:
        self.engine = engine
        self.clock = clock
        self.hasher = hasher

    def create(self, label: str) -> NewIntegration:
        """A new active integration; raises ``InvalidInput`` for a bad label."""
        label = _checked_label(label)
        secret = new_secret_access_key()
        integration_id = uuid.uuid4()
        row = {
            "id": integration_id,
            "label": label,
            "access_key_id": new_access_key_id(),
            "secret_hash": self.hasher.hash(secret),
            "created_at": self.clock.now(),
            "revoked_at": None,
            "last_used_at": None,
        }

        with self.engine.begin() as connection:
            connection.execute(t.insert().values(**row))
        return NewIntegration(self.get(integration_id), secret)

    def get(self, integration_id: UUID) -> Integration:
        found = self.find(integration_id)
        if found is None:
            raise IntegrationNotFound(integration_id.hex)
        return found

    def find(self, integration_id: UUID) -> Integration | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(t).where(t.c.id == integration_id)
            ).first()
        return None if row is None else _integration(row)

    def all(self) -> list[Integration]:
        """Every integration, revoked ones too, oldest first."""
        query = sa.select(t).order_by(t.c.created_at, t.c.access_key_id)
        with self.engine.connect() as connection:
            return [_integration(row) for row in connection.execute(query)]

    def verify(self, access_key_id: str, secret: str) -> Integration | None:
        """The active integration these credentials prove; None otherwise.

        Exactly one argon2 verification runs whatever the outcome (unknown
        id, revoked, wrong secret, right secret).
        """
        row = self._row_by_access_key(access_key_id)
        usable = row is not None and row.revoked_at is None
        secret_hash = row.secret_hash if row is not None and usable else None

        matched = self.hasher.matches(secret_hash, secret)
        if not matched or row is None:
            return None
        return _integration(row)

    def _row_by_access_key(self, access_key_id: str) -> sa.Row[Any] | None:
        # Upper case on both backends: MariaDB compares case-insensitively.
        if len(access_key_id) > ACCESS_KEY_LENGTH:
            return None
        query = sa.select(t).where(t.c.access_key_id == access_key_id.upper())
        with self.engine.connect() as connection:
            return connection.execute(query).first()

    def mark_used(self, integration_id: UUID) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                t.update()
                .where(t.c.id == integration_id)
                .values(last_used_at=self.clock.now())
            )

    def revoke(self, reference: str) -> tuple[Integration, bool]:
        """Revoke by id (hex or dashed) or access key id.

        Returns the integration and whether this call revoked it (False when
        it already was). Raises ``IntegrationNotFound``.
        """
        found = self._by_reference(reference.strip())
        if found is None:
            raise IntegrationNotFound(reference)
        if not found.active:
            return found, False

        with self.engine.begin() as connection:
            connection.execute(
                t.update()
                .where(t.c.id == found.id, t.c.revoked_at.is_(None))
                .values(revoked_at=self.clock.now())
            )
        return self.get(found.id), True

    def _by_reference(self, reference: str) -> Integration | None:
        if reference.upper().startswith(ACCESS_KEY_PREFIX):
            row = self._row_by_access_key(reference)
            return None if row is None else _integration(row)
        try:
            return self.find(UUID(reference))
        except ValueError:
            return None


def _checked_label(label: str) -> str:
    label = label.strip()
    if not label:
        raise InvalidInput("--label must not be empty")
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidInput(f"--label must be at most {MAX_LABEL_LENGTH} characters")
    if not label.isprintable():
        raise InvalidInput("--label must not contain control characters")
    return label
