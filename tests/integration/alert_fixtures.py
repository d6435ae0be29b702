"""Fixtures of the alert tests: an SMTP server and a Slack webhook on loopback.

Test modules load them with ``pytest_plugins = ["tests.integration.alert_fixtures"]``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from external_orders.simulators.server import BackgroundServer
from tests.integration.alert_sinks import (
    WEBHOOK_PATH,
    Certificate,
    MailSink,
    SlackSink,
    free_port,
)


@pytest.fixture
def mail_sink() -> Iterator[tuple[MailSink, int]]:
    """A plain SMTP server on loopback: (its sink, its port)."""
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture(scope="session")
def slack_server() -> Iterator[tuple[BackgroundServer, SlackSink]]:
    sink = SlackSink()

    async def webhook(request: Request) -> PlainTextResponse:
        payload = await request.json()
        with sink.lock:
            status = sink.status
            if status < 300:
                sink.payloads.append(payload)
        return PlainTextResponse("ok" if status < 300 else "error", status)

    app = Starlette(routes=[Route(WEBHOOK_PATH, webhook, methods=["POST"])])
    with BackgroundServer(app) as server:
        sink.url = server.url + WEBHOOK_PATH
        yield server, sink


@pytest.fixture
def slack_sink(slack_server: tuple[BackgroundServer, SlackSink]) -> SlackSink:
    """The webhook stand-in, emptied and answering 200."""
    sink = slack_server[1]
    with sink.lock:
        sink.payloads.clear()
        sink.status = 200
    return sink


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (needs the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes"),
            *("-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)
