"""A stand-in for the SAN6 write API (``API-AUFTRAGNEU2``), over real HTTP.

It checks what the real SAN6 checks (query parameters, secret, function,
the mandatory nodes of the AuftragNeu2 document), answers in SAN6's XML and
keeps every write request it got. Faults make it slow, hang, fail with 5xx,
answer garbage or refuse orders with a business error code.

Answer codes: 0 accepted, 2 missing or invalid parameter, 3 authentication
failed, 4 unknown function, 5 download of the file-transfer URL failed,
6 invalid document; a business fault answers the code it was given.

Admin routes live under ``/_simulator``; every other path is the write
endpoint, for GET (strategy ``filetransferurl``) and POST (``post-xml``).
"""

from __future__ import annotations

import asyncio
import hmac
import re
import threading
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import httpx
import uvicorn
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import QueryParams

from external_orders.clock import Clock, SystemClock
from external_orders.domain.san6_config import MANDANTS, MASK

WRITE_FUNCTION = "API-AUFTRAGNEU2"
REQUIRED_PARAMS = (
    "company",
    "product",
    "mandant",
    "sys",
    "authentifizierung",
    "funktion",
)
ADMIN_PREFIX = "/_simulator"
DOWNLOAD_TIMEOUT_SECONDS = 5.0

CODE_ACCEPTED = "0"
CODE_INVALID_PARAMETER = "2"
CODE_AUTHENTICATION_FAILED = "3"
CODE_UNKNOWN_FUNCTION = "4"
CODE_DOWNLOAD_FAILED = "5"
CODE_INVALID_DOCUMENT = "6"
DEFAULT_BUSINESS_MESSAGE = "simulated business error"
DOWNLOAD_FAILED = "download of filetransferurl failed"
NON_XML_BODY = "<html><body><h1>SAN6 maintenance</h1></body></html>"

_ERRNO_PREFIX = re.compile(r"^\[Errno -?\d+\]\s*")
_Problem = tuple[str, str]


@dataclass(frozen=True)
class Faults:
    """How the next write requests are spoiled; the default spoils nothing.

    ``http_status`` and ``non_xml`` replace the answer before anything is
    checked; ``response_code`` (with ``response_message``) replaces the
    answer of a request that would have been accepted. ``latency_seconds``
    and ``hang_seconds`` delay the answer after the request was processed
    and recorded, as a SAN6 that took the order but answered late.
    ``fail_count`` limits the faults to the next N write requests, after
    which they are cleared; None keeps them until cleared.
    """

    latency_seconds: float = 0.0
    response_code: str | None = None
    response_message: str | None = None
    http_status: int | None = None
    hang_seconds: float = 0.0
    non_xml: bool = False
    fail_count: int | None = None


@dataclass(frozen=True)
class ReceivedRequest:
    """One write request as the simulator saw and answered it.

    ``params`` has ``authentifizierung`` masked; ``code`` is None when a
    fault answered without a SAN6 code.
    """

    method: str
    path: str
    strategy: str
    params: dict[str, str]
    xml: str | None
    code: str | None
    http_status: int
    auftragsnummer: str | None
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


@dataclass
class SimulatorState:
    """What the simulator expects, what it got, and its faults.

    Shared between the server thread and tests: change ``received`` and
    ``faults`` only through the methods, which hold the lock.
    """

    company: str = "demo-company"
    product: str = "demo-product"
    sys: str = "demo-sys"
    authentifizierung: str = field(default="demo-secret", repr=False)
    received: list[ReceivedRequest] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    clock: Clock = field(default_factory=SystemClock, repr=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False
    )
    _orders: int = field(default=0, init=False, repr=False)

    def requests(self) -> list[ReceivedRequest]:
        """A snapshot of the received write requests, oldest first."""
        with self._lock:
            return list(self.received)

    def record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.received.append(request)

    def clear_received(self) -> None:
        with self._lock:
            self.received.clear()

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults

    def clear_faults(self) -> None:
        self.set_faults(Faults())

    def take_faults(self) -> Faults:
        """The faults for one write request, counting it against fail_count."""
        with self._lock:
            faults = self.faults
            if faults.fail_count is not None:
                remaining = faults.fail_count - 1
                self.faults = (
                    Faults()
                    if remaining <= 0
                    else replace(faults, fail_count=remaining)
                )
            return faults

    def reset(self) -> None:
        """Forgets received requests and faults; order numbers start again."""
        with self._lock:
            self.received.clear()
            self.faults = Faults()
            self._orders = 0

    def next_auftragsnummer(self) -> str:
        with self._lock:
            self._orders += 1
            return f"A-{self._orders:06d}"


class FaultsBody(BaseModel):
    """The JSON body of ``PUT /_simulator/faults``; it replaces all faults."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    latency_seconds: float = Field(0.0, ge=0, le=60, allow_inf_nan=False)
    response_code: str | None = Field(None, min_length=1, max_length=32)
    response_message: str | None = Field(None, max_length=1000)
    http_status: int | None = Field(None, ge=400, le=599)
    hang_seconds: float = Field(0.0, ge=0, le=600, allow_inf_nan=False)
    non_xml: bool = False
    fail_count: int | None = Field(None, ge=1)


@dataclass(frozen=True)
class _Outcome:
    response: Response
    code: str | None = None
    xml: str | None = None
    auftragsnummer: str | None = None


def create_app(state: SimulatorState) -> FastAPI:
    """The simulator as an ASGI app serving ``state``."""
    app = FastAPI(
        title="SAN6 simulator", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.include_router(_admin_router(state))

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def write(request: Request, path: str) -> Response:
        if (path + "/").startswith(ADMIN_PREFIX.lstrip("/") + "/"):
            return Response(status_code=404)
        return await _handle_write(state, request)

    return app


def serve(host: str, port: int, state: SimulatorState | None = None) -> None:
    """Runs the simulator in the foreground until interrupted."""
    uvicorn.run(create_app(state or SimulatorState()), host=host, port=port)


def _admin_router(state: SimulatorState) -> APIRouter:
    router = APIRouter(prefix=ADMIN_PREFIX)

    @router.get("/received")
    def received() -> list[dict[str, Any]]:
        return [request.to_json() for request in state.requests()]

    @router.delete("/received", status_code=204)
    def clear_received() -> None:
        state.clear_received()

    @router.get("/faults")
    def faults() -> dict[str, Any]:
        return asdict(state.faults)

    @router.put("/faults")
    def set_faults(body: FaultsBody) -> dict[str, Any]:
        state.set_faults(Faults(**body.model_dump()))
        return asdict(state.faults)

    @router.delete("/faults", status_code=204)
    def clear_faults() -> None:
        state.clear_faults()

    return router


async def _handle_write(state: SimulatorState, request: Request) -> Response:
    faults = state.take_faults()
    outcome = await _outcome(state, request, faults)

    state.record(_received(state, request, outcome))

    delay = faults.latency_seconds + faults.hang_seconds
    if delay > 0:
        await asyncio.sleep(delay)
    return outcome.response


def _received(
    state: SimulatorState, request: Request, outcome: _Outcome
) -> ReceivedRequest:
    params = dict(request.query_params)
    if "authentifizierung" in params:
        params["authentifizierung"] = MASK
    return ReceivedRequest(
        method=request.method,
        path=request.url.path,
        strategy="post-xml" if request.method == "POST" else "filetransferurl",
        params=params,
        xml=outcome.xml,
        code=outcome.code,
        http_status=outcome.response.status_code,
        auftragsnummer=outcome.auftragsnummer,
        at=state.clock.now(),
    )


async def _outcome(state: SimulatorState, request: Request, faults: Faults) -> _Outcome:
    if faults.http_status is not None:
        text = f"simulated HTTP {faults.http_status}"
        return _Outcome(Response(text, status_code=faults.http_status))
    if faults.non_xml:
        return _Outcome(Response(NON_XML_BODY, media_type="text/html"))

    problem = _parameter_problem(state, request.query_params)
    if problem is not None:
        return _rejected(*problem)

    document, problem = await _document(request)
    xml = None if document is None else document.decode("utf-8", errors="replace")
    if problem is not None:
        return _rejected(*problem, xml)

    invalid = _document_problem(document or b"")
    if invalid is not None:
        return _rejected(CODE_INVALID_DOCUMENT, invalid, xml)
    return _accepted(state, faults, xml)


def _parameter_problem(state: SimulatorState, params: QueryParams) -> _Problem | None:
    """The code and message for the first bad query parameter, if any."""
    for name in REQUIRED_PARAMS:
        if not params.get(name, "").strip():
            return CODE_INVALID_PARAMETER, f"missing parameter {name}"
    names = [name for name, _ in params.multi_items()]
    for name in dict.fromkeys(names):
        if names.count(name) > 1:
            return CODE_INVALID_PARAMETER, f"parameter {name} given more than once"

    if params["mandant"] not in MANDANTS:
        return CODE_INVALID_PARAMETER, "invalid parameter mandant"
    for name, expected in (
        ("company", state.company),
        ("product", state.product),
        ("sys", state.sys),
    ):
        if params[name] != expected:
            return CODE_INVALID_PARAMETER, f"invalid parameter {name}"

    if not hmac.compare_digest(
        params["authentifizierung"].encode(), state.authentifizierung.encode()
    ):
        return CODE_AUTHENTICATION_FAILED, "authentication failed"
    if params["funktion"] != WRITE_FUNCTION:
        return CODE_UNKNOWN_FUNCTION, f"unknown function {params['funktion']}"
    return None


async def _document(request: Request) -> tuple[bytes | None, _Problem | None]:
    """The order XML of the request: its body, or downloaded; or a problem."""
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        body = await request.body()
        if content_type.split(";")[0].strip().lower() != "application/xml":
            problem = "Content-Type must be application/xml"
            return body, (CODE_INVALID_PARAMETER, problem)
        return body, None

    url = request.query_params.get("filetransferurl", "").strip()
    if not url:
        return None, (CODE_INVALID_PARAMETER, "missing parameter filetransferurl")
    return await _download(url)


async def _download(url: str) -> tuple[bytes | None, _Problem | None]:
    try:
        async with httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT_SECONDS) as client:
            response = await client.get(url)
    except (httpx.RequestError, httpx.InvalidURL) as error:
        reason = _ERRNO_PREFIX.sub("", str(error)) or type(error).__name__
        return None, (CODE_DOWNLOAD_FAILED, f"{DOWNLOAD_FAILED}: {reason}")

    if response.status_code != 200:
        problem = f"{DOWNLOAD_FAILED}: HTTP {response.status_code}"
        return None, (CODE_DOWNLOAD_FAILED, problem)
    return response.content, None


def _document_problem(document: bytes) -> str | None:
    """What makes ``document`` no valid AuftragNeu2; None when it is valid."""
    try:
        root = fromstring(document, forbid_dtd=True)
    except DefusedXmlException:
        return "DTDs and entity declarations are not accepted"
    except (ParseError, LookupError, ValueError) as error:
        return f"not well-formed XML ({error})"

    if root.tag != "AuftragNeu2":
        return f"root element must be AuftragNeu2, not {root.tag}"
    return _missing_node(root)


def _missing_node(root: Element) -> str | None:
    for name in ("Referenz", "Datum"):
        if not _text(root, name):
            return f"missing node {name}"
    for name in ("Kunde", "Lieferadresse", "Positionen", "Anlagen"):
        if root.find(name) is None:
            return f"missing node {name}"

    positions = root.findall("Positionen/Position")
    if not positions:
        return "missing node Positionen/Position"
    for number, position in enumerate(positions, start=1):
        for name in ("Referenz", "Menge"):
            if not _text(position, name):
                return f"missing node Positionen/Position[{number}]/{name}"
    return None


def _text(parent: Element, name: str) -> str:
    return (parent.findtext(name) or "").strip()


def _rejected(code: str, message: str, xml: str | None = None) -> _Outcome:
    return _Outcome(_answer(code, message), code=code, xml=xml)


def _accepted(state: SimulatorState, faults: Faults, xml: str | None) -> _Outcome:
    if faults.response_code is not None:
        message = faults.response_message or DEFAULT_BUSINESS_MESSAGE
        return _rejected(faults.response_code, message, xml)
    number = state.next_auftragsnummer()
    return _Outcome(_answer(CODE_ACCEPTED, "OK", number), CODE_ACCEPTED, xml, number)


def _answer(code: str, message: str, auftragsnummer: str | None = None) -> Response:
    parts = [
        f"<response_code>{escape(code)}</response_code>",
        f"<response_message>{escape(message)}</response_message>",
    ]
    if auftragsnummer is not None:
        parts.append(f"<auftragsnummer>{escape(auftragsnummer)}</auftragsnummer>")
    body = '<?xml version="1.0" encoding="UTF-8"?><response>' + "".join(parts)
    return Response(body + "</response>", media_type="application/xml")
