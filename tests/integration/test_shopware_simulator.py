"""The Shopware Admin API stand-in, spoken to over HTTP as Shopware would be."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from external_orders.clock import FrozenClock
from external_orders.simulators.shopware import ShopwareState, sample_orders
from tests.integration.shopware_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    shopware,
    shopware_server,
    shopware_url,
)

__all__ = ["shopware", "shopware_server", "shopware_url"]

JSON = {"Accept": "application/json"}


@pytest.fixture
def http(shopware_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shopware_url, timeout=10) as client:
        yield client


def token(http: httpx.Client) -> str:
    answer = http.post(
        "/api/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def search(
    http: httpx.Client, criteria: dict[str, Any], *, accept: str = "application/json"
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token(http)}", "Accept": accept}
    return http.post("/api/search/order", json=criteria, headers=headers)


def found(http: httpx.Client, criteria: dict[str, Any]) -> dict[str, Any]:
    answer = search(http, criteria)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_token_endpoint_answers_like_shopware(
    http: httpx.Client, shopware: ShopwareState
) -> None:
    """Client credentials, as JSON or as a form, give a Bearer token for 600 s."""
    as_form = http.post(
        "/api/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )

    assert as_form.status_code == 200
    assert as_form.json().keys() == {"token_type", "expires_in", "access_token"}
    assert as_form.json()["token_type"] == "Bearer"
    assert as_form.json()["expires_in"] == 600
    assert token(http) != as_form.json()["access_token"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"grant_type": "client_credentials", "client_id": CLIENT_ID}, 401),
        (
            {
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": "nope",
            },
            401,
        ),
        ({"grant_type": "password", "client_id": CLIENT_ID}, 400),
    ],
)
def test_wrong_credentials_or_grant_are_refused(
    http: httpx.Client, shopware: ShopwareState, body: dict[str, str], status: int
) -> None:
    """A wrong secret is 401, another grant type 400, both with an errors list."""
    answer = http.post("/api/oauth/token", json=body)

    assert answer.status_code == status
    assert answer.json()["errors"][0]["status"] == str(status)


def test_a_search_needs_a_valid_unexpired_token(
    http: httpx.Client, shopware: ShopwareState, clock: FrozenClock
) -> None:
    """No token, a made-up one and one past its lifetime are all answered 401."""
    valid = token(http)
    for header in ({}, {"Authorization": "Bearer made-up"}):
        answer = http.post("/api/search/order", json={}, headers={**JSON, **header})
        assert answer.status_code == 401

    clock.advance(seconds=600)
    expired = http.post(
        "/api/search/order",
        json={},
        headers={**JSON, "Authorization": f"Bearer {valid}"},
    )
    assert expired.status_code == 401


def test_plain_json_is_answered_only_when_asked_for(
    http: httpx.Client, shopware: ShopwareState
) -> None:
    """Accept: application/json gives plain entities; else JSON:API resources."""
    shopware.generate(1)

    plain = search(http, {})
    json_api = search(http, {}, accept="*/*")

    assert plain.json().keys() == {"total", "data", "aggregations"}
    assert "orderNumber" in plain.json()["data"][0]
    assert json_api.headers["content-type"].startswith("application/vnd.api+json")
    assert json_api.json()["data"][0]["type"] == "order"
    assert "orderNumber" in json_api.json()["data"][0]["attributes"]


def test_the_samples_are_served_by_default(shopware_url: str) -> None:
    """A fresh stand-in holds the bundled sample orders."""
    assert len(ShopwareState().orders()) == len(sample_orders()) >= 9


def test_filters_sort_limit_and_page_select_orders(
    http: httpx.Client, shopware: ShopwareState, clock: FrozenClock
) -> None:
    """A createdAt range, a descending sort and paging pick the expected orders."""
    early = shopware.generate(1)[0]
    start = clock.advance(seconds=1)
    middle = [shopware.generate(1)[0] for _ in range(3) if clock.advance(seconds=1)]

    criteria = {
        "filter": [
            {
                "type": "range",
                "field": "createdAt",
                "parameters": {"gte": start.isoformat(timespec="milliseconds")},
            }
        ],
        "sort": [{"field": "createdAt", "order": "DESC"}],
        "limit": 2,
        "page": 2,
        "total-count-mode": 1,
    }
    body = found(http, criteria)

    assert body["total"] == 3
    assert [o["id"] for o in body["data"]] == [middle[0]["id"]]
    assert early["id"] not in {
        o["id"] for o in found(http, {**criteria, "page": 1})["data"]
    }


def test_not_equals_any_leaves_orders_out(
    http: httpx.Client, shopware: ShopwareState
) -> None:
    """A not filter over equalsAny on id excludes those orders."""
    orders = shopware.generate(3)
    criteria = {
        "filter": [
            {
                "type": "not",
                "operator": "or",
                "queries": [
                    {"type": "equalsAny", "field": "id", "value": [orders[0]["id"]]}
                ],
            }
        ]
    }

    assert {o["id"] for o in found(http, criteria)["data"]} == {
        orders[1]["id"],
        orders[2]["id"],
    }


def test_equals_reads_nested_fields_through_lists(
    http: httpx.Client, shopware: ShopwareState
) -> None:
    """tags.name matches when any tag has the name."""
    tagged = shopware.generate(1, tags=[{"name": "vip", "apiAlias": "tag"}])[0]
    shopware.generate(1)
    criteria = {"filter": [{"type": "equals", "field": "tags.name", "value": "vip"}]}

    assert [o["id"] for o in found(http, criteria)["data"]] == [tagged["id"]]


def test_without_total_count_the_total_is_the_page_size(
    http: httpx.Client, shopware: ShopwareState
) -> None:
    """total-count-mode 0 counts the page only, as Shopware does."""
    shopware.generate(5)

    assert found(http, {"limit": 2})["total"] == 2
    assert found(http, {"limit": 2, "total-count-mode": 1})["total"] == 5


def test_associations_are_left_out_unless_asked_for(
    http: httpx.Client, shopware: ShopwareState
) -> None:
    """lineItems come only when asked; an asked-for empty tags list is []."""
    shopware.generate(1)

    bare = found(http, {})["data"][0]
    full = found(http, {"associations": {"lineItems": {}, "tags": {}}})["data"][0]

    assert "lineItems" not in bare and "tags" not in bare
    assert "stateMachineState" in bare
    assert full["lineItems"] and full["tags"] == []


def test_includes_cut_each_entity_to_the_named_fields(
    http: httpx.Client, shopware: ShopwareState
) -> None:
    """includes keyed by API alias keep only those fields (and the alias)."""
    shopware.generate(1)
    criteria = {
        "includes": {
            "order": ["id", "stateMachineState"],
            "state_machine_state": ["technicalName"],
        }
    }

    (order,) = found(http, criteria)["data"]

    assert set(order) == {"id", "stateMachineState", "apiAlias"}
    assert order["stateMachineState"] == {
        "technicalName": "open",
        "apiAlias": "state_machine_state",
    }


def test_unreadable_criteria_are_answered_400(
    http: httpx.Client, shopware: ShopwareState
) -> None:
    """An unknown filter type or a bad limit is 400 with the reason."""
    bad_filter = search(http, {"filter": [{"type": "nearby", "field": "id"}]})
    bad_limit = search(http, {"limit": 0})

    assert bad_filter.status_code == bad_limit.status_code == 400
    assert "nearby" in bad_filter.json()["errors"][0]["detail"]


def test_orders_and_faults_are_set_at_run_time(
    http: httpx.Client, shopware: ShopwareState, clock: FrozenClock
) -> None:
    """The admin routes add orders, count requests and fail the next N searches."""
    added = http.post("/_simulator/orders", json={"orderNumber": "A-1"})
    generated = http.post("/_simulator/orders/generate", json={"count": 2})
    faulted = http.put("/_simulator/faults", json={"http_status": 503, "fail_count": 1})

    assert added.status_code == generated.status_code == 201
    assert faulted.json()["http_status"] == 503
    assert search(http, {}).status_code == 503
    assert len(found(http, {})["data"]) == 3

    listed = http.get("/_simulator/orders").json()
    assert {o["orderNumber"] for o in listed} >= {"A-1"}
    assert listed[0]["createdAt"] == clock.now().isoformat(timespec="milliseconds")
    assert http.get("/_simulator/requests").json() == {"token": 2, "search": 2}

    http.post("/_simulator/tokens/expire")
    assert search(http, {}).status_code == 200  # a new token was fetched
    clock.advance(timedelta(seconds=1))
    assert http.delete("/_simulator/orders").status_code == 204
    assert found(http, {})["data"] == []
