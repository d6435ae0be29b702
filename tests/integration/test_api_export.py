"""POST /api/_action/external-orders/export/{orderId} over real HTTP."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from external_orders.bootstrap import Services
from external_orders.domain import san6_config as keys
from external_orders.domain.attempt import Status
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import Faults, SimulatorState
from tests.integration.api_support import (
    Api,
    import_samples,
    running_api,
    wait_for,
)

ORDER_ID = json.loads(sample_files()[0].read_text())["id"]
BODY_KEYS = {
    "exportId",
    "orderId",
    "status",
    "responseCode",
    "responseMessage",
    "correlationId",
}


@pytest.fixture
def api(configured: Services) -> Iterator[Api]:
    import_samples(configured)
    with running_api(configured) as running:
        yield running


@pytest.fixture
def token(api: Api) -> str:
    return api.token()


def test_export_answers_200_and_sent_when_san6_accepts(
    api: Api, token: str, simulator: SimulatorState
) -> None:
    """An accepted order answers 200 with the issue's keys and status sent."""
    answer = api.export(ORDER_ID, token)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body.keys() >= BODY_KEYS
    assert (body["status"], body["responseCode"]) == ("sent", "0")
    assert body["orderId"] == ORDER_ID.replace("-", "").lower()
    assert len(simulator.requests()) == 1


def test_order_id_may_be_dashed_and_upper_case(api: Api, token: str) -> None:
    """A dashed, upper-case order id names the same order."""
    dashed = str(uuid.UUID(ORDER_ID)).upper()

    answer = api.export(dashed, token)

    assert answer.status_code == 200, answer.text
    assert answer.json()["orderId"] == uuid.UUID(ORDER_ID).hex


def test_business_error_answers_502_with_retry_scheduled(
    api: Api, token: str, simulator: SimulatorState
) -> None:
    """A SAN6 refusal answers 502, the body says the code and the next retry."""
    simulator.set_faults(Faults(response_code="17", response_message="Artikel"))

    answer = api.export(ORDER_ID, token)

    assert answer.status_code == 502
    body = answer.json()
    assert body.keys() >= BODY_KEYS | {"message"}
    assert (body["status"], body["responseCode"]) == ("retry_scheduled", "17")
    assert "code 17" in body["message"]
    assert "retry 1 of 5" in body["message"]


def test_unreachable_san6_answers_502(
    api: Api, token: str, simulator: SimulatorState
) -> None:
    """SAN6 answering HTTP 503 is a technical failure: 502, retry scheduled."""
    simulator.set_faults(Faults(http_status=503))

    answer = api.export(ORDER_ID, token)

    assert answer.status_code == 502
    body = answer.json()
    assert body["status"] == "retry_scheduled"
    assert body["responseCode"] is None
    assert body["message"]


def test_order_that_can_never_be_valid_answers_502_permanent(
    api: Api, token: str, tmp_path: Path
) -> None:
    """An order without product lines answers 502 and failed_permanent."""
    order = json.loads(sample_files()[1].read_text())
    order["id"] = uuid.uuid4().hex
    order["lineItems"] = []
    path = tmp_path / "no-lines.json"
    path.write_text(json.dumps(order))
    api.services.file_orders.import_files([path])

    answer = api.export(order["id"], token)

    assert answer.status_code == 502
    assert answer.json()["status"] == "failed_permanent"
    assert "no automatic retry" in answer.json()["message"]


@pytest.mark.parametrize(
    "order_id",
    ["not-a-uuid", "0" * 31, "{" + "0" * 32 + "}", "g" * 32, "0" * 33],
)
def test_malformed_order_id_answers_400(api: Api, token: str, order_id: str) -> None:
    """Anything but 32 hex digits or a dashed UUID answers 400 with a message."""
    answer = api.export(order_id, token)

    assert answer.status_code == 400
    assert "invalid order id" in answer.json()["message"]


def test_unknown_order_answers_404_and_writes_nothing(api: Api, token: str) -> None:
    """An order the source does not have answers 404; no attempt is written."""
    unknown = uuid.uuid4().hex

    answer = api.export(unknown, token)

    assert answer.status_code == 404
    assert "not found" in answer.json()["message"]
    assert api.services.exports.latest(uuid.UUID(unknown)) is None


def test_already_sent_answers_409_unless_forced(
    api: Api, token: str, simulator: SimulatorState
) -> None:
    """A second export of a sent order answers 409; force=1 sends it again."""
    assert api.export(ORDER_ID, token).status_code == 200

    refused = api.export(ORDER_ID, token)
    forced = api.export(ORDER_ID, token, force="1")

    assert refused.status_code == 409
    assert "already sent" in refused.json()["message"]
    assert forced.status_code == 200
    assert forced.json()["status"] == "sent"
    assert len(simulator.requests()) == 2


def test_export_while_an_attempt_is_processing_answers_409(
    api: Api, token: str, simulator: SimulatorState
) -> None:
    """While SAN6 has not answered the first export, a second one gets 409."""
    simulator.set_faults(Faults(latency_seconds=1.0, fail_count=1))
    first: list[int] = []
    worker = threading.Thread(
        target=lambda: first.append(api.export(ORDER_ID, token).status_code)
    )
    worker.start()
    wait_for(lambda: _latest_status(api) is Status.PROCESSING)

    second = api.export(ORDER_ID, token, force="1")
    worker.join()

    assert second.status_code == 409
    assert "already processing" in second.json()["message"]
    assert first == [200]


def test_sending_disabled_answers_503_without_an_attempt(
    api: Api, token: str, simulator: SimulatorState
) -> None:
    """Strategy disabled answers 503 with a message; nothing is written or sent."""
    api.services.config.set(keys.SEND_STRATEGY, "disabled")

    answer = api.export(ORDER_ID, token)

    assert answer.status_code == 503
    assert "disabled" in answer.json()["message"]
    assert api.services.exports.latest(uuid.UUID(ORDER_ID)) is None
    assert simulator.requests() == []


def test_invalid_settings_answer_503_and_keep_the_attempt(
    api: Api, token: str, simulator: SimulatorState
) -> None:
    """Missing SAN6 settings answer 503; the attempt row is failed_permanent."""
    api.services.config.unset(keys.BASE_URL)

    answer = api.export(ORDER_ID, token)

    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "failed_permanent"
    assert keys.BASE_URL in body["message"]
    latest = api.services.exports.latest(uuid.UUID(ORDER_ID))
    assert latest is not None and latest.status is Status.FAILED_PERMANENT
    assert simulator.requests() == []


def test_no_answer_carries_a_secret_or_a_trace(
    api: Api, token: str, simulator: SimulatorState
) -> None:
    """Neither the SAN6 secret nor a stack trace appears in any export answer."""
    simulator.set_faults(Faults(response_code="3", response_message="auth"))
    answers = [api.export(ORDER_ID, token), api.export("bad", token)]
    api.services.config.unset(keys.COMPANY)
    answers.append(api.export(ORDER_ID, token))

    for answer in answers:
        assert simulator.authentifizierung not in answer.text
        assert "Traceback" not in answer.text
        assert answer.headers["content-type"] == "application/json"


def _latest_status(api: Api) -> Status | None:
    latest = api.services.exports.latest(uuid.UUID(ORDER_ID))
    return None if latest is None else latest.status
