"""Orders read from a live Shopware 6 through its Admin API.

An integration's access key id and secret (OAuth2 client credentials) give
a bearer token at ``POST /api/oauth/token``; it is reused until shortly
before it expires, and fetched again when Shopware answers 401. Orders come
from ``POST /api/search/order`` in plain JSON (``Accept: application/json``).

Timeouts, transport errors and 5xx answers become ``OrderSourceUnavailable``
(the export is retried like a SAN6 outage); refused credentials become
``OrderSourceAuthFailed``; an id Shopware does not know is ``OrderNotFound``.
Neither the secret nor a token is ever put in an error or a log line.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from external_orders.clock import Clock
from external_orders.errors import (
    InvalidSetting,
    OrderNotFound,
    OrderSourceAuthFailed,
    OrderSourceUnavailable,
)
from external_orders.logs import log_event
from external_orders.settings import Settings

TOKEN_PATH = "/api/oauth/token"
SEARCH_PATH = "/api/search/order"
USER_AGENT = "external-orders"
RENEW_BEFORE = timedelta(seconds=30)
"""A token this close to its expiry is renewed before use, not sent."""

_DETAIL_LENGTH = 200

ORDER_ASSOCIATIONS: dict[str, Any] = {
    "orderCustomer": {},
    "billingAddress": {"associations": {"country": {}}},
    "deliveries": {
        "associations": {"shippingOrderAddress": {"associations": {"country": {}}}}
    },
    "lineItems": {},
    "transactions": {"associations": {"paymentMethod": {}, "stateMachineState": {}}},
    "addresses": {"associations": {"country": {}}},
    "tags": {},
    "currency": {},
    "stateMachineState": {},
}
"""What the AuftragNeu2 mapping and the qualification read of an order."""

LISTING_ASSOCIATIONS: dict[str, Any] = {
    "stateMachineState": {},
    "transactions": {"associations": {"stateMachineState": {}}},
    "tags": {},
}
LISTING_INCLUDES: dict[str, list[str]] = {
    "order": [
        "id",
        "orderNumber",
        "createdAt",
        "salesChannelId",
        "customFields",
        "stateMachineState",
        "transactions",
        "tags",
    ],
    "state_machine_state": ["technicalName"],
    "order_transaction": ["id", "createdAt", "stateMachineState"],
    "tag": ["id", "name"],
}
"""The new-order listing: only what the qualification reads; the exporter
fetches the whole order by id when it sends it."""


def shopware_order_source(settings: Settings, clock: Clock) -> ShopwareOrderSource:
    """The source for ``EXTERNAL_ORDERS_ORDER_SOURCE=shopware``.

    Raises ``InvalidSetting`` naming the first missing or invalid variable.
    """
    url = (settings.shopware_url or "").strip()
    client_id = (settings.shopware_client_id or "").strip()
    secret = settings.shopware_client_secret
    secret_value = secret.get_secret_value() if secret else ""
    for name, value in (
        ("EXTERNAL_ORDERS_SHOPWARE_URL", url),
        ("EXTERNAL_ORDERS_SHOPWARE_CLIENT_ID", client_id),
        ("EXTERNAL_ORDERS_SHOPWARE_CLIENT_SECRET", secret_value),
    ):
        if not value:
            raise InvalidSetting(
                name, "is required when EXTERNAL_ORDERS_ORDER_SOURCE=shopware"
            )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSetting("EXTERNAL_ORDERS_SHOPWARE_URL", "must be an http(s) URL")
    return ShopwareOrderSource(
        url, client_id, secret_value, clock=clock, timeout=settings.shopware_timeout
    )


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: datetime


class ShopwareOrderSource:
    """A connection-reusing Admin API client; one instance serves many threads.

    One token is shared by all threads; when it must be renewed, one thread
    fetches it while the others wait for it. Redirects are not followed, so
    a token is never carried to another host.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        clock: Clock,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._timeout = timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def get(self, order_id: UUID) -> dict[str, Any]:
        criteria = {
            "ids": [order_id.hex],
            "associations": ORDER_ASSOCIATIONS,
            "limit": 1,
            "total-count-mode": 0,
        }
        orders = self._orders(self._search(criteria, order_id), order_id)
        if not orders:
            raise OrderNotFound(order_id)
        return orders[0]

    def created_since(
        self, start: datetime, *, exclude: Collection[UUID] = (), limit: int
    ) -> list[dict[str, Any]]:
        filters: list[dict[str, Any]] = [
            {"type": "range", "field": "createdAt", "parameters": {"gte": _iso(start)}}
        ]
        if exclude:
            ids = sorted(order_id.hex for order_id in exclude)
            filters.append(
                {
                    "type": "not",
                    "operator": "or",
                    "queries": [{"type": "equalsAny", "field": "id", "value": ids}],
                }
            )
        criteria = {
            "filter": filters,
            "sort": [
                {"field": "createdAt", "order": "ASC"},
                {"field": "id", "order": "ASC"},
            ],
            "limit": limit,
            "page": 1,
            "total-count-mode": 0,
            "associations": LISTING_ASSOCIATIONS,
            "includes": LISTING_INCLUDES,
        }
        return self._orders(self._search(criteria, None), None)

    def check(self) -> str:
        """Fetches a token and counts the orders: the credentials work."""
        criteria = {"limit": 1, "total-count-mode": 1, "includes": {"order": ["id"]}}
        answer = self._search(criteria, None)
        total = answer.get("total")
        counted = f"{total} orders" if isinstance(total, int) else "orders readable"
        return f"Shopware at {self.base_url} answers, credentials accepted ({counted})"

    def close(self) -> None:
        self._http.close()

    def _search(self, criteria: dict[str, Any], order_id: UUID | None) -> Any:
        token = self._current_token(order_id)
        response = self._post(SEARCH_PATH, criteria, order_id, token)
        if response.status_code == 401:
            # Revoked, or expired early (Shopware restarted, clocks differ).
            self._forget(token)
            token = self._current_token(order_id)
            response = self._post(SEARCH_PATH, criteria, order_id, token)
        if response.status_code == 401:
            raise OrderSourceAuthFailed(
                order_id, "Shopware refused a fresh access token (HTTP 401)"
            )
        if response.status_code == 403:
            raise OrderSourceAuthFailed(
                order_id, "the integration may not read orders (HTTP 403)"
            )
        return _json(response, order_id)

    def _orders(self, answer: Any, order_id: UUID | None) -> list[dict[str, Any]]:
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list) or not all(isinstance(o, dict) for o in data):
            raise OrderSourceUnavailable(
                order_id, "Shopware's answer has no order list"
            )
        return data

    def _current_token(self, order_id: UUID | None) -> str:
        with self._lock:
            token = self._token
            if token is None or self._clock.now() >= token.expires_at - RENEW_BEFORE:
                token = self._token = self._fetch_token(order_id)
            return token.value

    def _forget(self, value: str) -> None:
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def _fetch_token(self, order_id: UUID | None) -> _Token:
        body = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        response = self._post(TOKEN_PATH, body, order_id)
        if response.status_code in (400, 401, 403):
            raise OrderSourceAuthFailed(
                order_id,
                "Shopware refused the integration's access key id or secret "
                f"(HTTP {response.status_code})",
            )
        answer = _json(response, order_id)

        fields = answer if isinstance(answer, dict) else {}
        value, lifetime = fields.get("access_token"), fields.get("expires_in")
        if not isinstance(value, str) or not value or not _positive_int(lifetime):
            raise OrderSourceUnavailable(
                order_id, "Shopware's token answer is unusable"
            )
        log_event("Shopware access token obtained.", expiresIn=lifetime)
        return _Token(value, self._clock.now() + timedelta(seconds=lifetime))

    def _post(
        self,
        path: str,
        body: dict[str, Any],
        order_id: UUID | None,
        token: str | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            return self._http.post(path, json=body, headers=headers)
        except httpx.TimeoutException as error:
            problem = f"Shopware did not answer within {self._timeout:g} s"
            raise OrderSourceUnavailable(order_id, problem) from error
        except httpx.RequestError as error:
            problem = f"Shopware unreachable: {type(error).__name__}"
            raise OrderSourceUnavailable(order_id, problem) from error


def _json(response: httpx.Response, order_id: UUID | None) -> Any:
    """The JSON of a 200 answer; any other answer is ``OrderSourceUnavailable``."""
    if response.status_code != 200:
        detail = _error_detail(response)
        problem = f"Shopware answered HTTP {response.status_code}"
        raise OrderSourceUnavailable(
            order_id, f"{problem}: {detail}" if detail else problem
        )
    try:
        return response.json()
    except ValueError as error:
        raise OrderSourceUnavailable(order_id, "Shopware answered no JSON") from error


def _error_detail(response: httpx.Response) -> str:
    """The first ``errors[].detail`` of a Shopware error answer, shortened."""
    try:
        errors = response.json().get("errors")
        detail = str(errors[0].get("detail") or errors[0].get("title") or "")
    except (ValueError, AttributeError, TypeError, IndexError, KeyError):
        return ""
    return detail[:_DETAIL_LENGTH]


def _positive_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")
