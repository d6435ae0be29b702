"""GET /topm-export/{token} and the filetransferurl strategy end to end."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import pytest

from external_orders.adapters.signing import UrlSigner
from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.domain import san6_config as keys
from external_orders.domain.attempt import Attempt
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import SimulatorState
from tests.integration.api_support import Api, import_samples, running_api

ORDER_ID = json.loads(sample_files()[5].read_text())["id"]
XML_TYPE = "application/xml; charset=utf-8"


@pytest.fixture
def api(configured: Services) -> Iterator[Api]:
    import_samples(configured)
    configured.config.set(keys.SEND_STRATEGY, "filetransferurl")
    with running_api(configured) as running:
        yield running


@pytest.fixture
def exported(api: Api) -> Attempt:
    """An order sent with filetransferurl; its row holds the request XML."""
    answer = api.export(ORDER_ID, api.token())
    assert answer.status_code == 200, answer.text
    return api.services.exports.get(uuid.UUID(answer.json()["exportId"]))


def signer(api: Api) -> UrlSigner:
    assert api.services.signer is not None
    return api.services.signer


def test_san6_downloads_the_xml_from_the_signed_url_and_the_export_is_sent(
    api: Api, exported: Attempt, simulator: SimulatorState
) -> None:
    """The simulator fetched /topm-export/... from this API and accepted it."""
    [request] = simulator.requests()

    assert exported.status.value == "sent"
    assert exported.strategy == "filetransferurl"
    assert request.strategy == "filetransferurl"
    assert request.params["filetransferurl"].startswith(api.url + "/topm-export/")
    assert request.xml == exported.request_xml


def test_valid_token_serves_the_request_xml(api: Api, exported: Attempt) -> None:
    """A fresh signed URL answers 200, application/xml UTF-8, the stored XML."""
    url, _expires_at = signer(api).url(api.url, exported.id)

    answer = api.http.get(url)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == XML_TYPE
    assert answer.text == exported.request_xml


def test_download_needs_no_login(api: Api, exported: Attempt) -> None:
    """The file transfer ignores a missing Authorization header."""
    url, _expires_at = signer(api).url(api.url, exported.id)

    answer = api.http.get(url, headers={"Authorization": "Bearer nonsense"})

    assert answer.status_code == 200


def test_expired_token_answers_404(
    api: Api, exported: Attempt, clock: FrozenClock
) -> None:
    """A URL works until its 600 s are over, then answers 404."""
    url, _expires_at = signer(api).url(api.url, exported.id)

    clock.advance(seconds=599)
    still = api.http.get(url)
    clock.advance(seconds=1)
    expired = api.http.get(url)

    assert still.status_code == 200
    assert expired.status_code == 404


def test_tampered_tokens_answer_404(api: Api, exported: Attempt) -> None:
    """Changing the export id, the expiry or the signature breaks the token."""
    token, _expires_at = signer(api).token(exported.id)
    export_hex, expires_at, signature = (
        base64.urlsafe_b64decode(token + "==").decode().split("|")
    )
    other = uuid.uuid4().hex
    variants = [
        f"{other}|{expires_at}|{signature}",
        f"{export_hex}|{int(expires_at) + 3600}|{signature}",
        f"{export_hex}|{expires_at}|{signature[::-1]}",
    ]

    for variant in variants:
        forged = base64.urlsafe_b64encode(variant.encode()).rstrip(b"=").decode()
        assert api.http.get(f"/topm-export/{forged}").status_code == 404


GARBAGE = [
    "not base64!",
    "%00",
    "%C3%A9t%C3%A9",
    "A" * 600,
    "A" * 12000,
    base64.urlsafe_b64encode(b"a|b|c").decode().rstrip("="),
    base64.urlsafe_b64encode(b"\xff\xfe\xfd" * 10).decode(),
    "..%2F..%2Fetc%2Fpasswd",
    "..",
    "%2e%2e",
]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_tokens_answer_a_bare_404(api: Api, token: str) -> None:
    """Not base64, huge, non-ASCII, path tricks: the same 404 as an unknown path."""
    answer = api.http.get(f"/topm-export/{token}")

    assert answer.status_code == 404
    assert answer.json() == {"message": "not found"}


def test_token_of_an_unknown_export_answers_404(api: Api) -> None:
    """A genuine token for an export that does not exist answers 404."""
    url, _expires_at = signer(api).url(api.url, uuid.uuid4())

    assert api.http.get(url).status_code == 404


def test_token_of_an_export_without_xml_answers_404(api: Api) -> None:
    """An attempt that never stored its XML (invalid settings) has nothing."""
    api.services.config.unset(keys.COMPANY)
    answer = api.export(ORDER_ID, api.token())
    export_id = uuid.UUID(answer.json()["exportId"])
    url, _expires_at = signer(api).url(api.url, export_id)

    assert answer.status_code == 503
    assert api.http.get(url).status_code == 404


def test_without_app_secret_every_token_answers_404(
    services: Services, simulator: SimulatorState
) -> None:
    """A service without EXTERNAL_ORDERS_APP_SECRET serves no file at all."""
    settings = services.settings.model_copy(update={"app_secret": None})
    unsigned = Services(settings, clock=services.clock)
    token, _expires_at = UrlSigner("test-app-secret-0123456789", services.clock).token(
        uuid.uuid4()
    )
    try:
        with running_api(unsigned) as api:
            assert api.http.get(f"/topm-export/{token}").status_code == 404
    finally:
        unsigned.close()


def test_filetransferurl_without_app_secret_answers_503(
    services: Services, simulator: SimulatorState, simulator_url: str
) -> None:
    """Exporting with filetransferurl and no app secret: 503, attempt kept."""
    settings = services.settings.model_copy(update={"app_secret": None})
    unsigned = Services(settings, clock=services.clock)
    try:
        with running_api(unsigned) as api:
            for key, value in _filetransfer_settings(simulator, simulator_url):
                unsigned.config.set(key, value)
            import_samples(unsigned)
            answer = api.export(ORDER_ID, api.token())
    finally:
        unsigned.close()

    assert answer.status_code == 503
    assert "EXTERNAL_ORDERS_APP_SECRET" in answer.json()["message"]
    assert answer.json()["status"] == "failed_permanent"


def _filetransfer_settings(
    simulator: SimulatorState, url: str
) -> list[tuple[str, str]]:
    from external_orders.simulators.settings import simulator_settings

    values = simulator_settings(simulator, url, timeout=2)
    values[keys.SEND_STRATEGY] = "filetransferurl"
    return list(values.items())


@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "DELETE"])
def test_other_methods_and_trailing_slash_answer_404(
    api: Api, exported: Attempt, method: str
) -> None:
    """Only GET of the exact link serves; everything else is the same 404."""
    url, _expires_at = signer(api).url(api.url, exported.id)

    assert api.http.request(method, url).status_code == 404
    assert api.http.get(url + "/").status_code == 404
