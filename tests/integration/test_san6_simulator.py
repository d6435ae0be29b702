"""The SAN6 simulator and the background server, over loopback HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI

from external_orders.simulators.san6 import Faults, SimulatorState
from external_orders.simulators.server import BackgroundServer

XML = {"Content-Type": "application/xml"}


@pytest.fixture
def san6_http(
    san6_server: tuple[BackgroundServer, SimulatorState],
) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=san6_server[0].url, timeout=5) as client:
        yield client


def params(state: SimulatorState, **changes: str | None) -> dict[str, str]:
    """Valid write parameters, changed or (with None) left out."""
    values: dict[str, str | None] = {
        "ssid": "nosession",
        "company": state.company,
        "product": state.product,
        "mandant": "Zentrale",
        "sys": state.sys,
        "authentifizierung": state.authentifizierung,
        "funktion": "API-AUFTRAGNEU2",
        **changes,
    }
    return {name: value for name, value in values.items() if value is not None}


def code_and_message(response: httpx.Response) -> tuple[str, str]:
    found = re.search(
        r"<response_code>(.*)</response_code><response_message>(.*)</response_message>",
        response.text,
    )
    assert found is not None, response.text
    return found.group(1), found.group(2)


def post(
    http: httpx.Client, state: SimulatorState, xml: str, **changes: str | None
) -> tuple[str, str]:
    response = http.post(
        "/api", params=params(state, **changes), content=xml, headers=XML
    )
    assert response.status_code == 200
    return code_and_message(response)


def without(xml: str, pattern: str) -> str:
    changed = re.sub(pattern, "", xml, count=1, flags=re.DOTALL)
    assert changed != xml
    return changed


def test_accepts_a_valid_document_with_rising_order_numbers(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """Each accepted order gets the next Auftragsnummer in the SAN6 answer."""
    first = san6_http.post(
        "/api", params=params(san6_state), content=san6_order_xml, headers=XML
    )
    second = san6_http.post(
        "/api", params=params(san6_state), content=san6_order_xml, headers=XML
    )

    assert first.text == (
        '<?xml version="1.0" encoding="UTF-8"?><response>'
        "<response_code>0</response_code><response_message>OK</response_message>"
        "<auftragsnummer>A-000001</auftragsnummer></response>"
    )
    assert first.headers["content-type"].startswith("application/xml")
    assert "<auftragsnummer>A-000002</auftragsnummer>" in second.text


@pytest.mark.parametrize("path", ["/", "/deep/path/to/api", "/index.php"])
def test_any_path_is_the_write_endpoint(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str, path: str
) -> None:
    """The base URL's path does not matter to the simulator."""
    response = san6_http.post(
        path, params=params(san6_state), content=san6_order_xml, headers=XML
    )

    assert code_and_message(response)[0] == "0"


@pytest.mark.parametrize(
    "name", ["company", "product", "mandant", "sys", "authentifizierung", "funktion"]
)
def test_a_missing_parameter_gives_code_2(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str, name: str
) -> None:
    """Each required parameter, missing or empty, is named in a code 2 answer."""
    missing = post(san6_http, san6_state, san6_order_xml, **{name: None})
    empty = post(san6_http, san6_state, san6_order_xml, **{name: " "})

    assert missing == empty == ("2", f"missing parameter {name}")


def test_ssid_is_optional(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """A request without ssid is accepted."""
    assert post(san6_http, san6_state, san6_order_xml, ssid=None)[0] == "0"


@pytest.mark.parametrize(
    ("name", "value"),
    [("mandant", "Filiale"), ("company", "x"), ("product", "x"), ("sys", "x")],
)
def test_an_invalid_parameter_gives_code_2(
    san6_http: httpx.Client,
    san6_state: SimulatorState,
    san6_order_xml: str,
    name: str,
    value: str,
) -> None:
    """A mandant other than Schule/Zentrale or an unknown company is refused."""
    answer = post(san6_http, san6_state, san6_order_xml, **{name: value})

    assert answer == ("2", f"invalid parameter {name}")


def test_a_duplicated_parameter_gives_code_2(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """A parameter sent twice is refused, so URL bugs show."""
    query = urlencode(params(san6_state)) + "&ssid=again"

    response = san6_http.post(f"/api?{query}", content=san6_order_xml, headers=XML)

    assert code_and_message(response) == ("2", "parameter ssid given more than once")


def test_a_wrong_secret_gives_code_3(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """Authentication failure is code 3, and the wrong secret is masked."""
    answer = post(san6_http, san6_state, san6_order_xml, authentifizierung="nope")

    assert answer == ("3", "authentication failed")
    assert san6_state.requests()[0].params["authentifizierung"] == "***"


def test_another_function_gives_code_4(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """Only API-AUFTRAGNEU2 is served."""
    answer = post(san6_http, san6_state, san6_order_xml, funktion="API-AUFTRAEGE")

    assert answer == ("4", "unknown function API-AUFTRAEGE")


def test_a_post_must_be_application_xml(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """A body of another content type is refused with code 2."""
    response = san6_http.post(
        "/api",
        params=params(san6_state),
        content=san6_order_xml,
        headers={"Content-Type": "text/plain"},
    )

    assert code_and_message(response) == ("2", "Content-Type must be application/xml")


def test_a_get_needs_a_filetransferurl(
    san6_http: httpx.Client, san6_state: SimulatorState
) -> None:
    """A GET without filetransferurl is refused with code 2."""
    response = san6_http.get("/api", params=params(san6_state))

    assert code_and_message(response) == ("2", "missing parameter filetransferurl")


def test_a_failed_download_gives_code_5_with_the_status(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_file_url: str
) -> None:
    """A file-transfer URL answering 404 is code 5 naming HTTP 404."""
    query = params(san6_state, filetransferurl=f"{san6_file_url}/topm-export/gone")

    response = san6_http.get("/api", params=query)

    assert code_and_message(response) == (
        "5",
        "download of filetransferurl failed: HTTP 404",
    )


def test_an_unreachable_download_gives_code_5(
    san6_http: httpx.Client, san6_state: SimulatorState
) -> None:
    """A file-transfer URL nobody listens on is code 5."""
    query = params(san6_state, filetransferurl="http://127.0.0.1:1/x")

    code, message = code_and_message(san6_http.get("/api", params=query))

    assert code == "5"
    assert message.startswith("download of filetransferurl failed: ")


@pytest.mark.parametrize(
    ("pattern", "node"),
    [
        (r"<Referenz>10042</Referenz>", "Referenz"),
        (r"<Datum>.*?</Datum>", "Datum"),
        (r"<Kunde>.*?</Kunde>", "Kunde"),
        (r"<Lieferadresse>.*?</Lieferadresse>", "Lieferadresse"),
        (r"<Positionen>.*?</Positionen>", "Positionen"),
        (r"<Position>.*?</Position>", "Positionen/Position"),
        (r"<Menge>2</Menge>", "Positionen/Position[1]/Menge"),
        (r"<Referenz>ART</Referenz>", "Positionen/Position[1]/Referenz"),
        (r"<Anlagen/>", "Anlagen"),
    ],
)
def test_a_missing_node_gives_code_6(
    san6_http: httpx.Client,
    san6_state: SimulatorState,
    san6_order_xml: str,
    pattern: str,
    node: str,
) -> None:
    """Each mandatory node of AuftragNeu2 is checked and named."""
    answer = post(san6_http, san6_state, without(san6_order_xml, pattern))

    assert answer == ("6", f"missing node {node}")


def test_an_empty_referenz_counts_as_missing(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """A Referenz of blanks is no Referenz."""
    xml = san6_order_xml.replace("<Referenz>10042</Referenz>", "<Referenz> </Referenz>")

    assert post(san6_http, san6_state, xml) == ("6", "missing node Referenz")


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("not xml", "not well-formed XML"),
        ("", "not well-formed XML"),
        ("<Auftrag/>", "root element must be AuftragNeu2, not Auftrag"),
        (
            '<!DOCTYPE a [<!ENTITY x "y">]><AuftragNeu2/>',
            "DTDs and entity declarations are not accepted",
        ),
    ],
)
def test_an_unreadable_document_gives_code_6(
    san6_http: httpx.Client, san6_state: SimulatorState, xml: str, message: str
) -> None:
    """Broken, foreign or entity-laden documents are refused with code 6."""
    code, answered = post(san6_http, san6_state, xml)

    assert code == "6"
    assert answered.startswith(message)


def test_every_write_request_is_recorded_with_its_answer(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """Accepted and rejected requests are both kept, with the code answered."""
    post(san6_http, san6_state, san6_order_xml)
    post(san6_http, san6_state, san6_order_xml, funktion="X")

    first, second = san6_state.requests()
    assert (first.code, first.auftragsnummer, first.xml) == (
        "0",
        "A-000001",
        san6_order_xml,
    )
    assert (second.code, second.auftragsnummer) == ("4", None)
    assert first.at <= second.at


def test_the_admin_api_lists_and_clears_received_requests(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """GET lists the requests as JSON with the secret masked; DELETE clears."""
    post(san6_http, san6_state, san6_order_xml)

    listed: list[dict[str, Any]] = san6_http.get("/_simulator/received").json()
    cleared = san6_http.delete("/_simulator/received")

    assert [entry["code"] for entry in listed] == ["0"]
    assert listed[0]["params"]["authentifizierung"] == "***"
    assert san6_state.authentifizierung not in str(listed)
    assert cleared.status_code == 204
    assert san6_http.get("/_simulator/received").json() == []


def test_the_admin_api_sets_shows_and_clears_faults(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """PUT replaces the faults, GET shows them, DELETE clears them."""
    put = san6_http.put(
        "/_simulator/faults", json={"response_code": 17, "fail_count": 1}
    )

    assert put.status_code == 200
    assert san6_http.get("/_simulator/faults").json()["response_code"] == "17"
    assert post(san6_http, san6_state, san6_order_xml) == (
        "17",
        "simulated business error",
    )
    assert post(san6_http, san6_state, san6_order_xml)[0] == "0"

    san6_http.put("/_simulator/faults", json={"non_xml": True})
    assert san6_http.delete("/_simulator/faults").status_code == 204
    assert san6_state.faults == Faults()


@pytest.mark.parametrize(
    "body",
    [
        {"latency_seconds": -1},
        {"http_status": 200},
        {"fail_count": 0},
        {"unknown": True},
        {"hang_seconds": "long"},
    ],
)
def test_invalid_faults_are_refused_with_422(
    san6_http: httpx.Client, san6_state: SimulatorState, body: dict[str, Any]
) -> None:
    """Fault settings are validated and nothing changes on error."""
    response = san6_http.put("/_simulator/faults", json=body)

    assert response.status_code == 422
    assert san6_state.faults == Faults()


def test_unknown_admin_routes_are_not_write_requests(
    san6_http: httpx.Client, san6_state: SimulatorState
) -> None:
    """Paths under /_simulator never reach the write endpoint."""
    response = san6_http.get("/_simulator/nothing", params=params(san6_state))

    assert response.status_code == 404
    assert san6_state.requests() == []


def test_latency_delays_the_answer(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """With latency the answer comes that much later, still accepted."""
    san6_state.set_faults(Faults(latency_seconds=0.1))
    started = time.perf_counter()

    answer = post(san6_http, san6_state, san6_order_xml)

    assert answer[0] == "0"
    assert time.perf_counter() - started >= 0.1


def test_a_non_xml_fault_with_fail_count_recovers(
    san6_http: httpx.Client, san6_state: SimulatorState, san6_order_xml: str
) -> None:
    """A non-XML answer limited to one request is followed by a real answer."""
    san6_state.set_faults(Faults(non_xml=True, fail_count=1))

    first = san6_http.post(
        "/api", params=params(san6_state), content=san6_order_xml, headers=XML
    )

    assert first.headers["content-type"].startswith("text/html")
    assert post(san6_http, san6_state, san6_order_xml)[0] == "0"
    assert [request.code for request in san6_state.requests()] == [None, "0"]


def test_the_background_server_serves_and_stops() -> None:
    """A started server answers on its URL and refuses after stop."""
    app = FastAPI()

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    with BackgroundServer(app) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        assert httpx.get(f"{server.url}/ping").json() == "pong"

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/ping")


def test_a_server_that_cannot_start_says_so() -> None:
    """A failing app startup raises instead of hanging."""

    @asynccontextmanager
    async def broken(app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    with pytest.raises(RuntimeError, match="stopped while starting"):
        BackgroundServer(FastAPI(lifespan=broken)).start()


def test_the_url_is_unknown_before_start() -> None:
    """Asking for the URL of a server not started is an error."""
    with pytest.raises(RuntimeError, match="not been started"):
        _ = BackgroundServer(FastAPI()).url
