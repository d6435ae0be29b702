"""The SAN6 client against the simulator over loopback HTTP."""

from __future__ import annotations

import logging
import socket
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from external_orders.adapters.san6.client import San6Client
from external_orders.domain.san6_config import San6Config, SendStrategy
from external_orders.errors import San6ConfigInvalid, San6Unavailable, SendingDisabled
from external_orders.simulators.san6 import Faults, SimulatorState
from external_orders.simulators.server import BackgroundServer


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


def shown(error: BaseException) -> str:
    """Everything a log line or traceback of ``error`` could print."""
    return "".join(traceback.format_exception(error)) + repr(error)


def test_post_xml_is_accepted(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
) -> None:
    """A valid document posted as XML is accepted and the answer kept."""
    answer = san6_client.send(san6_config, san6_order_xml)

    assert answer.accepted
    assert (answer.code, answer.message, answer.http_status) == ("0", "OK", 200)
    assert "<auftragsnummer>A-000001</auftragsnummer>" in answer.body
    assert answer.duration_seconds > 0
    [received] = san6_state.requests()
    assert (received.method, received.strategy) == ("POST", "post-xml")
    assert received.path == "/topm/san6/api"
    assert received.xml == san6_order_xml
    assert received.params["ssid"] == "nosession"
    assert received.params["authentifizierung"] == "***"


def test_a_business_error_is_an_answer(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
) -> None:
    """A SAN6 refusal comes back as a not accepted answer with its code."""
    san6_state.set_faults(Faults(response_code="17", response_message="Artikel fehlt"))

    answer = san6_client.send(san6_config, san6_order_xml)

    assert (answer.code, answer.message) == ("17", "Artikel fehlt")
    assert not answer.accepted


def test_a_wrong_secret_is_an_answer_with_code_3(
    san6_client: San6Client, san6_config: San6Config, san6_order_xml: str
) -> None:
    """Authentication failures are SAN6 answers, not transport errors."""
    config = replace(san6_config, authentifizierung="wrong")

    answer = san6_client.send(config, san6_order_xml)

    assert (answer.code, answer.message) == ("3", "authentication failed")


def test_http_500_is_unavailable(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
) -> None:
    """A 5xx answer raises San6Unavailable with the status and a duration."""
    san6_state.set_faults(Faults(http_status=500))

    with pytest.raises(San6Unavailable) as raised:
        san6_client.send(san6_config, san6_order_xml)

    assert str(raised.value) == "SAN6 answered HTTP 500"
    assert getattr(raised.value, "duration_seconds", 0) > 0


def test_a_4xx_without_code_is_an_unreadable_answer(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
) -> None:
    """A 4xx is parsed like any answer, giving code None here."""
    san6_state.set_faults(Faults(http_status=404))

    answer = san6_client.send(san6_config, san6_order_xml)

    assert (answer.code, answer.http_status) == (None, 404)
    assert answer.message is not None
    assert answer.message.startswith("unreadable SAN6 answer: not XML")


def test_a_hang_past_the_timeout_is_unavailable(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
) -> None:
    """A SAN6 slower than the timeout raises 'timed out' though it took the order."""
    san6_state.set_faults(Faults(hang_seconds=0.75))
    config = replace(san6_config, timeout=0.25)

    with pytest.raises(San6Unavailable) as raised:
        san6_client.send(config, san6_order_xml)

    assert str(raised.value) == "SAN6 timed out after 0.25 s (read)"
    assert 0.2 < getattr(raised.value, "duration_seconds", 0) < 0.7
    assert [request.code for request in san6_state.requests()] == ["0"]


def test_a_non_xml_answer_has_no_code(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
) -> None:
    """An HTML page instead of XML gives code None and a description."""
    san6_state.set_faults(Faults(non_xml=True))

    answer = san6_client.send(san6_config, san6_order_xml)

    assert answer.code is None
    assert answer.http_status == 200
    assert "SAN6 maintenance" in answer.body


def test_a_refused_connection_is_unavailable(
    san6_client: San6Client, san6_config: San6Config, san6_order_xml: str
) -> None:
    """Nobody listening raises San6Unavailable 'unreachable'."""
    config = replace(san6_config, base_url=closed_port_url())

    with pytest.raises(San6Unavailable) as raised:
        san6_client.send(config, san6_order_xml)

    assert str(raised.value) == "SAN6 unreachable: connection refused"


@pytest.mark.parametrize("fault", ["refused", "http_500", "timeout"])
def test_the_secret_never_shows_in_errors_or_logs(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    """Neither the exception, its traceback nor httpx's log lines hold the secret."""
    config = replace(san6_config, timeout=0.2)
    if fault == "refused":
        config = replace(config, base_url=closed_port_url())
    san6_state.set_faults(
        Faults(http_status=500) if fault == "http_500" else Faults(hang_seconds=0.4)
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(San6Unavailable) as raised:
        san6_client.send(config, san6_order_xml)

    assert config.authentifizierung not in shown(raised.value)
    assert config.authentifizierung not in caplog.text
    assert config.authentifizierung not in repr(config)


def test_a_secret_echoed_by_san6_is_redacted_from_the_answer(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
) -> None:
    """An answer quoting the request URL does not carry the secret onwards."""
    secret = san6_config.authentifizierung
    echo = f"bad request ?authentifizierung={secret}&funktion=X"
    san6_state.set_faults(Faults(response_code="9", response_message=echo))

    answer = san6_client.send(san6_config, san6_order_xml)

    assert answer.message == "bad request ?authentifizierung=***&funktion=X"
    assert secret not in answer.body


def test_filetransferurl_lets_san6_download_the_document(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
    san6_files: dict[str, bytes],
    san6_file_url: str,
) -> None:
    """With filetransferurl SAN6 gets a GET, downloads the XML and accepts it."""
    san6_files["/topm-export/token-1"] = san6_order_xml.encode()
    file_url = f"{san6_file_url}/topm-export/token-1"
    config = replace(san6_config, strategy=SendStrategy.FILETRANSFERURL)

    answer = san6_client.send(config, "", file_transfer_url=file_url)

    assert answer.accepted
    [received] = san6_state.requests()
    assert (received.method, received.strategy) == ("GET", "filetransferurl")
    assert received.params["filetransferurl"] == file_url
    assert received.xml == san6_order_xml


def test_filetransferurl_needs_a_url(
    san6_client: San6Client, san6_config: San6Config
) -> None:
    """Without a file-transfer URL nothing is sent."""
    config = replace(san6_config, strategy=SendStrategy.FILETRANSFERURL)

    with pytest.raises(ValueError, match="file_transfer_url"):
        san6_client.send(config, "<x/>")


def test_strategy_disabled_sends_nothing(
    san6_client: San6Client, san6_config: San6Config, san6_state: SimulatorState
) -> None:
    """Strategy disabled raises SendingDisabled before any request."""
    config = replace(san6_config, strategy=SendStrategy.DISABLED)

    with pytest.raises(SendingDisabled):
        san6_client.send(config, "<x/>")
    assert san6_state.requests() == []


def test_fail_count_recovers_after_n_requests(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
) -> None:
    """A fault limited to two requests fails exactly those two."""
    san6_state.set_faults(Faults(http_status=503, fail_count=2))

    for _ in range(2):
        with pytest.raises(San6Unavailable, match="HTTP 503"):
            san6_client.send(san6_config, san6_order_xml)

    assert san6_client.send(san6_config, san6_order_xml).accepted
    assert san6_state.faults == Faults()


def test_one_client_serves_many_threads(
    san6_client: San6Client,
    san6_config: San6Config,
    san6_state: SimulatorState,
    san6_order_xml: str,
) -> None:
    """Concurrent sends through one client are all answered, each once."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: san6_client.send(san6_config, san6_order_xml), range(24))
        )

    assert all(answer.accepted for answer in answers)
    numbers = {request.auftragsnummer for request in san6_state.requests()}
    assert len(numbers) == 24


def test_an_unusable_base_url_is_a_config_problem(
    san6_client: San6Client, san6_config: San6Config
) -> None:
    """A base URL httpx cannot use raises San6ConfigInvalid, without the secret."""
    config = replace(san6_config, base_url="http://127.0.0.1:port/api")

    with pytest.raises(San6ConfigInvalid) as raised:
        san6_client.send(config, "<x/>")

    assert "externalOrdersSan6BaseUrl is not usable" in str(raised.value)
    assert config.authentifizierung not in shown(raised.value)


def test_redirects_are_not_followed(
    san6_client: San6Client, san6_config: San6Config, san6_state: SimulatorState
) -> None:
    """A 3xx answer is returned as it is, so the secret goes nowhere else."""

    async def moved(request: Request) -> Response:
        return RedirectResponse(str(request.url).replace("/old", "/new"), 302)

    app = Starlette(routes=[Route("/old", moved, methods=["POST"])])
    with BackgroundServer(app) as server:
        config = replace(san6_config, base_url=f"{server.url}/old")
        answer = san6_client.send(config, "<x/>")

    assert (answer.http_status, answer.code) == (302, None)
    assert san6_state.requests() == []
