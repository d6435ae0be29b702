"""Fixtures for the SAN6 client and simulator tests: real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from external_orders.adapters.san6.client import San6Client
from external_orders.domain.san6_config import San6Config, SendStrategy
from external_orders.simulators.san6 import SimulatorState, create_app
from external_orders.simulators.server import BackgroundServer

SAN6_ORDER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<AuftragNeu2>
  <Referenz>10042</Referenz>
  <Datum>2026-01-05T09:00:00</Datum>
  <Kunde><Nummer>K-1</Nummer><Firma>Müller &amp; Söhne</Firma></Kunde>
  <Lieferadresse><Firma>Müller &amp; Söhne</Firma></Lieferadresse>
  <Positionen>
    <Position><Referenz>ART</Referenz><Gr>01</Gr><Menge>2</Menge></Position>
  </Positionen>
  <Anlagen/>
</AuftragNeu2>
"""


@pytest.fixture(scope="session")
def san6_server() -> Iterator[tuple[BackgroundServer, SimulatorState]]:
    """One SAN6 simulator for the session; tests get it reset."""
    state = SimulatorState()
    with BackgroundServer(create_app(state)) as server:
        yield server, state


@pytest.fixture
def san6_state(san6_server: tuple[BackgroundServer, SimulatorState]) -> SimulatorState:
    """The simulator's state with nothing received and no faults."""
    state = san6_server[1]
    state.reset()
    return state


@pytest.fixture
def san6_url(san6_server: tuple[BackgroundServer, SimulatorState]) -> str:
    """The simulator's write endpoint, below a path like the real one."""
    return f"{san6_server[0].url}/topm/san6/api"


@pytest.fixture
def san6_config(san6_state: SimulatorState, san6_url: str) -> San6Config:
    """Settings that the simulator accepts, strategy post-xml."""
    return San6Config(
        base_url=san6_url,
        company=san6_state.company,
        product=san6_state.product,
        mandant="Schule",
        sys=san6_state.sys,
        authentifizierung=san6_state.authentifizierung,
        write_function="API-AUFTRAGNEU2",
        strategy=SendStrategy.POST_XML,
        timeout=2.0,
    )


@pytest.fixture
def san6_client() -> Iterator[San6Client]:
    with San6Client() as client:
        yield client


@pytest.fixture
def san6_order_xml() -> str:
    """A minimal AuftragNeu2 document the simulator accepts."""
    return SAN6_ORDER_XML


@pytest.fixture(scope="session")
def san6_file_server() -> Iterator[tuple[BackgroundServer, dict[str, bytes]]]:
    """A tiny web server answering the bytes stored under each path."""
    files: dict[str, bytes] = {}

    async def serve_file(request: Request) -> Response:
        content = files.get(request.url.path)
        if content is None:
            return Response(status_code=404)
        return Response(content, media_type="application/xml; charset=utf-8")

    app = Starlette(routes=[Route("/{path:path}", serve_file)])
    with BackgroundServer(app) as server:
        yield server, files


@pytest.fixture
def san6_files(
    san6_file_server: tuple[BackgroundServer, dict[str, bytes]],
) -> Iterator[dict[str, bytes]]:
    """The file server's content by path, emptied after the test."""
    files = san6_file_server[1]
    yield files
    files.clear()


@pytest.fixture
def san6_file_url(san6_file_server: tuple[BackgroundServer, dict[str, bytes]]) -> str:
    return san6_file_server[0].url
