"""export-status and the support listing (runbook sections 4.1 and 5)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.simulators.san6 import Faults, SimulatorState
from tests.integration.api_support import (
    ACTION,
    Api,
    import_samples,
    running_api,
)


@pytest.fixture
def api(configured: Services) -> Iterator[Api]:
    import_samples(configured)
    with running_api(configured) as running:
        yield running


@pytest.fixture
def token(api: Api) -> str:
    return api.token()


@pytest.fixture
def three_exports(
    api: Api, token: str, clock: FrozenClock, simulator: SimulatorState
) -> list[str]:
    """Three orders exported a minute apart; the second one was refused."""
    order_ids = import_samples(api.services)[:3]
    for number, order_id in enumerate(order_ids):
        faults = Faults(response_code="17", fail_count=1) if number == 1 else Faults()
        simulator.set_faults(faults)
        api.export(order_id, token)
        clock.advance(minutes=1)
    return [uuid.UUID(order_id).hex for order_id in order_ids]


def test_export_status_answers_the_latest_attempt(
    api: Api, token: str, three_exports: list[str]
) -> None:
    """export-status gives the order's newest attempt as JSON."""
    answer = api.http.get(
        f"{ACTION}/export-status/{three_exports[1]}", headers=api.bearer(token)
    )

    assert answer.status_code == 200
    body = answer.json()
    assert (body["orderId"], body["status"]) == (three_exports[1], "retry_scheduled")
    assert body["responseCode"] == "17"


def test_export_status_of_an_order_never_exported_is_404_not_found(
    api: Api, token: str
) -> None:
    """No attempt yet: 404 and status not_found."""
    order_id = uuid.uuid4().hex

    answer = api.http.get(
        f"{ACTION}/export-status/{order_id}", headers=api.bearer(token)
    )

    assert answer.status_code == 404
    assert answer.json()["status"] == "not_found"
    assert answer.json()["orderId"] == order_id


def test_export_status_with_a_malformed_id_is_400(api: Api, token: str) -> None:
    """A malformed order id answers 400."""
    answer = api.http.get(f"{ACTION}/export-status/x", headers=api.bearer(token))

    assert answer.status_code == 400


def test_listing_is_newest_update_first(
    api: Api, token: str, three_exports: list[str]
) -> None:
    """The support view lists every attempt, newest updated_at first."""
    answer = api.http.get(f"{ACTION}/exports", headers=api.bearer(token))

    assert answer.status_code == 200
    rows = answer.json()["data"]
    assert [row["orderId"] for row in rows] == three_exports[::-1]
    assert [row["updatedAt"] for row in rows] == sorted(
        (row["updatedAt"] for row in rows), reverse=True
    )


def test_listing_filters_by_status_order_and_limit(
    api: Api, token: str, three_exports: list[str]
) -> None:
    """status, orderId and limit narrow the listing; empty values do not."""
    headers = api.bearer(token)

    def order_ids(**params: str) -> list[str]:
        answer = api.http.get(f"{ACTION}/exports", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return [row["orderId"] for row in answer.json()["data"]]

    assert order_ids(status="retry_scheduled") == [three_exports[1]]
    assert order_ids(orderId=three_exports[2].upper()) == [three_exports[2]]
    assert order_ids(limit="2") == three_exports[:0:-1]
    assert order_ids(status="", orderId="") == three_exports[::-1]
    assert order_ids(status="sent", orderId=three_exports[1]) == []


@pytest.mark.parametrize(
    "query",
    ["limit=501", "limit=0", "limit=many", "status=lost", "orderId=nope"],
)
def test_listing_refuses_bad_parameters_with_400(
    api: Api, token: str, query: str
) -> None:
    """limit above 500 or below 1, unknown status, malformed id: 400."""
    answer = api.http.get(f"{ACTION}/exports?{query}", headers=api.bearer(token))

    assert answer.status_code == 400
    assert answer.json()["message"]


def test_listing_accepts_the_maximum_limit(api: Api, token: str) -> None:
    """limit=500 is allowed."""
    answer = api.http.get(f"{ACTION}/exports?limit=500", headers=api.bearer(token))

    assert answer.status_code == 200
    assert answer.json() == {"data": []}
