"""A stand-in for the parts of Shopware 6's Admin API this service uses.

``POST /api/oauth/token`` takes client credentials (JSON or form) and gives
bearer tokens that expire on the state's clock. ``POST /api/search/order``
answers criteria (``ids``, ``filter`` with equals, equalsAny, range,
contains, multi and not, ``sort``, ``limit``, ``page``,
``total-count-mode``, ``associations``, ``includes``) in plain JSON when
asked with ``Accept: application/json``, else as JSON:API like Shopware.
Associations not asked for are left out of the answer (stricter than
Shopware, which loads a few by itself), so a client that forgets one
notices. It serves the sample orders and orders added at run time.

Admin routes live under ``/_simulator``: orders (add, generate, list,
clear), faults (HTTP status, latency, for how many requests, on which
endpoint), expiring every token, and request counts.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import hmac
import json
import secrets
import threading
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, Literal

import uvicorn
from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from external_orders.clock import Clock, SystemClock
from external_orders.domain.order import orders_in_document
from external_orders.simulators.shopware_criteria import CriteriaError, run_criteria

ADMIN_PREFIX = "/_simulator"
TEMPLATE_ID = "fd47ca8c12345c2ba2b9253b3af16400"
"""The sample that generated orders copy: the guest order, small."""

Target = Literal["search", "listing", "by_id", "token", "all"]
"""Where a fault hits: every search, searches without ``ids`` (listings),
searches by ``ids``, the token endpoint, or everything."""
Endpoint = Literal["listing", "by_id", "token"]


@dataclass(frozen=True)
class ShopwareFaults:
    """How the next requests are spoiled; the default spoils nothing.

    ``http_status`` answers that status instead; ``latency_seconds`` delays
    the answer. ``target`` says which requests they hit (see ``Target``);
    ``fail_count`` limits them to the next N of those, after which they are
    cleared.
    """

    http_status: int | None = None
    latency_seconds: float = 0.0
    target: Target = "search"
    fail_count: int | None = None


class FaultsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    http_status: int | None = Field(None, ge=400, le=599)
    latency_seconds: float = Field(0.0, ge=0, le=60, allow_inf_nan=False)
    target: Target = "search"
    fail_count: int | None = Field(None, ge=1)


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(1, ge=1, le=10000)
    changes: dict[str, Any] = Field(default_factory=dict)


def sample_orders() -> list[dict[str, Any]]:
    """The bundled sample orders, as Shopware's Admin API gives them (copies)."""
    return copy.deepcopy(list(_samples()))


@functools.cache
def _samples() -> tuple[dict[str, Any], ...]:
    folder = resources.files("external_orders") / "samples" / "orders"
    orders: list[dict[str, Any]] = []
    for path in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if path.name.endswith(".json"):
            document = json.loads(path.read_text(encoding="utf-8"))
            orders.extend(orders_in_document(document, path.name))
    return tuple(orders)


@dataclass
class ShopwareState:
    """The stand-in's integration, tokens, orders, faults and counts.

    Shared between the server thread and tests: change it only through the
    methods, which hold the lock.
    """

    client_id: str = "demo-client-id"
    client_secret: str = field(default="demo-client-secret", repr=False)
    token_lifetime: int = 600
    clock: Clock = field(default_factory=SystemClock, repr=False)
    with_samples: bool = True
    token_requests: int = 0
    search_requests: int = 0
    _orders: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _tokens: dict[str, datetime] = field(default_factory=dict, repr=False)
    _faults: ShopwareFaults = field(default_factory=ShopwareFaults)
    _numbers: int = 20000
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.reset(with_samples=self.with_samples)

    def reset(self, *, with_samples: bool = True) -> None:
        """No faults, no tokens, no counts; only the samples, or no orders."""
        with self._lock:
            self._orders = {}
            self._tokens = {}
            self._faults = ShopwareFaults()
            self.token_requests = self.search_requests = 0
        if with_samples:
            self.add_orders(sample_orders())

    def add_orders(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store copies of ``orders``, a missing id, number or createdAt filled
        in; returns copies of what was stored. An order with a known id
        replaces the stored one (an order changed in the shop)."""
        stored = []
        with self._lock:
            for order in orders:
                order = copy.deepcopy(order)
                order.setdefault("id", uuid.uuid4().hex)
                order["id"] = str(order["id"]).replace("-", "").lower()
                order.setdefault("orderNumber", self._next_number())
                order.setdefault("createdAt", _stamp(self.clock.now()))
                self._orders[order["id"]] = order
                stored.append(copy.deepcopy(order))
        return stored

    def generate(self, count: int = 1, **changes: Any) -> list[dict[str, Any]]:
        """``count`` new orders made from a sample, created now unless changed."""
        template = next(o for o in _samples() if o.get("id") == TEMPLATE_ID)
        orders = []
        for _ in range(count):
            order = {**template, **changes}  # add_orders stores a deep copy
            for key in ("id", "orderNumber", "createdAt"):
                if key not in changes:
                    order.pop(key, None)
            orders.append(order)
        return self.add_orders(orders)

    def orders(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._orders.values())

    def clear_orders(self) -> None:
        with self._lock:
            self._orders = {}

    def set_faults(self, faults: ShopwareFaults) -> None:
        with self._lock:
            self._faults = faults

    def faults(self) -> ShopwareFaults:
        with self._lock:
            return self._faults

    def take_faults(self, endpoint: Endpoint) -> ShopwareFaults:
        """The faults for one request to ``endpoint``; counts the request."""
        with self._lock:
            if endpoint == "token":
                self.token_requests += 1
            else:
                self.search_requests += 1
            faults = self._faults
            hit = {endpoint, "all"} | ({"search"} if endpoint != "token" else set())
            if faults.target not in hit:
                return ShopwareFaults()
            if faults.fail_count is not None:
                remaining = faults.fail_count - 1
                self._faults = (
                    ShopwareFaults()
                    if remaining <= 0
                    else replace(faults, fail_count=remaining)
                )
            return faults

    def issue_token(self, client_id: str, client_secret: str) -> str | None:
        """A new token for the right credentials (compared in constant time)."""
        right = hmac.compare_digest(
            client_id.encode(), self.client_id.encode()
        ) & hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        with self._lock:
            if not right:
                return None
            token = secrets.token_urlsafe(32)
            lifetime = timedelta(seconds=self.token_lifetime)
            self._tokens[token] = self.clock.now() + lifetime
            return token

    def token_valid(self, token: str) -> bool:
        with self._lock:
            expires_at = self._tokens.get(token)
            return expires_at is not None and self.clock.now() < expires_at

    def issued_tokens(self) -> list[str]:
        """Every token issued since the last reset, valid or not."""
        with self._lock:
            return list(self._tokens)

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (401)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, datetime.min.replace(tzinfo=UTC))

    def search(self, criteria: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        """The total (per total-count-mode) and the page of orders matching."""
        with self._lock:
            orders = list(self._orders.values())
        return run_criteria(criteria, orders)

    def _next_number(self) -> str:
        self._numbers += 1
        return str(self._numbers)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def create_app(state: ShopwareState) -> FastAPI:
    """The stand-in as an ASGI app serving ``state``."""
    app = FastAPI(
        title="Shopware Admin API stand-in",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.include_router(_admin_router(state))

    @app.post("/api/oauth/token")
    async def token(request: Request) -> Response:
        faulty = await _faulty(state.take_faults("token"))
        if faulty is not None:
            return faulty
        return _token_answer(state, await _credentials(request))

    @app.post("/api/search/order")
    async def search(request: Request) -> Response:
        criteria = await _criteria(request)
        by_id = isinstance(criteria, dict) and "ids" in criteria
        faulty = await _faulty(state.take_faults("by_id" if by_id else "listing"))
        if faulty is not None:
            return faulty
        if not state.token_valid(_bearer(request)):
            return _error(401, "Unauthorized", "Access token could not be verified.")
        return _search_answer(state, request, criteria)

    return app


def serve(host: str, port: int, state: ShopwareState | None = None) -> None:
    """Runs the stand-in in the foreground until interrupted."""
    uvicorn.run(create_app(state or ShopwareState()), host=host, port=port)


def _admin_router(state: ShopwareState) -> APIRouter:
    router = APIRouter(prefix=ADMIN_PREFIX)

    @router.get("/orders")
    def orders() -> list[dict[str, Any]]:
        keys = ("id", "orderNumber", "createdAt")
        return [{key: order.get(key) for key in keys} for order in state.orders()]

    @router.post("/orders", status_code=201)
    def add(orders: dict[str, Any] | list[dict[str, Any]] = Body(...)) -> list[str]:
        given = orders if isinstance(orders, list) else [orders]
        return [order["id"] for order in state.add_orders(given)]

    @router.post("/orders/generate", status_code=201)
    def generate(body: GenerateBody) -> list[str]:
        return [order["id"] for order in state.generate(body.count, **body.changes)]

    @router.delete("/orders", status_code=204)
    def clear() -> None:
        state.clear_orders()

    @router.get("/faults")
    def faults() -> dict[str, Any]:
        return asdict(state.faults())

    @router.put("/faults")
    def set_faults(body: FaultsBody) -> dict[str, Any]:
        state.set_faults(ShopwareFaults(**body.model_dump()))
        return asdict(state.faults())

    @router.delete("/faults", status_code=204)
    def clear_faults() -> None:
        state.set_faults(ShopwareFaults())

    @router.post("/tokens/expire", status_code=204)
    def expire_tokens() -> None:
        state.expire_tokens()

    @router.get("/requests")
    def requests() -> dict[str, int]:
        return {"token": state.token_requests, "search": state.search_requests}

    return router


async def _faulty(faults: ShopwareFaults) -> Response | None:
    if faults.latency_seconds > 0:
        await asyncio.sleep(faults.latency_seconds)
    if faults.http_status is None:
        return None
    return _error(faults.http_status, "Simulated fault", "simulated fault")


async def _credentials(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _token_answer(state: ShopwareState, body: dict[str, Any]) -> Response:
    if body.get("grant_type") != "client_credentials":
        return _error(
            400,
            "The authorization grant type is not supported by the server.",
            "Check that all required parameters have been provided",
        )
    token = state.issue_token(
        str(body.get("client_id", "")), str(body.get("client_secret", ""))
    )
    if token is None:
        return _error(401, "Unauthorized", "The client credentials are invalid.")
    answer = {
        "token_type": "Bearer",
        "expires_in": state.token_lifetime,
        "access_token": token,
    }
    return JSONResponse(answer)


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def _criteria(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _search_answer(state: ShopwareState, request: Request, criteria: Any) -> Response:
    try:
        if not isinstance(criteria, dict):
            raise CriteriaError("the criteria must be a JSON object")
        total, page = state.search(criteria)
    except (ValueError, CriteriaError) as error:
        return _error(400, "Invalid criteria", str(error)[:200])

    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"total": total, "data": page, "aggregations": {}})
    resources_ = [
        {"id": o["id"], "type": "order", "attributes": _without(o, "id")} for o in page
    ]
    document = {"data": resources_, "meta": {"total": total}}
    return JSONResponse(document, media_type="application/vnd.api+json")


def _error(status: int, title: str, detail: str) -> Response:
    error = {"status": str(status), "code": f"SIMULATED_{status}", "title": title}
    return JSONResponse({"errors": [{**error, "detail": detail}]}, status_code=status)


def _without(order: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in order.items() if name != key}
