"""The HTTP API on a loopback port, and a client that knows its routes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from argon2 import PasswordHasher

from external_orders.adapters.db.integrations import SecretHasher
from external_orders.bootstrap import Services
from external_orders.entrypoints.api.app import create_app
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.server import BackgroundServer

ACTION = "/api/_action/external-orders"
SAMPLE_IDS = [json.loads(path.read_text())["id"] for path in sample_files()]


@dataclass
class Api:
    """A running API: its URL, the services behind it and an HTTP client."""

    url: str
    services: Services
    http: httpx.Client

    def credentials(self, label: str = "support") -> tuple[str, str]:
        created = self.services.integrations.create(label)
        return created.integration.access_key_id, created.secret_access_key

    def token(self, label: str = "support") -> str:
        client_id, client_secret = self.credentials(label)
        answer = self.http.post(
            "/api/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
            },
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token()}"}

    def export(self, order_id: str, token: str, **params: Any) -> httpx.Response:
        """The runbook's call: POST, bearer token, JSON content type, no body."""
        return self.http.post(
            f"{ACTION}/export/{order_id}",
            params=params,
            headers={**self.bearer(token), "Content-Type": "application/json"},
        )


# Real argon2id at a test cost: the production cost (64 MiB, 3 passes) would
# add a few hundred milliseconds to every test that makes a token.
FAST_HASHING = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@contextmanager
def running_api(services: Services) -> Iterator[Api]:
    """Serves ``create_app(services)``; signed URLs point at it."""
    services.integrations.hasher = SecretHasher(FAST_HASHING)
    with (
        BackgroundServer(create_app(services)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        services.exporter.public_url = server.url
        yield Api(server.url, services, http)


def import_samples(services: Services) -> list[str]:
    services.file_orders.import_files(sample_files())
    return SAMPLE_IDS


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Polls ``condition`` until it holds; fails the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)
