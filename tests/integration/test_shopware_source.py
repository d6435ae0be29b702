"""The Admin API order source against the Shopware stand-in over HTTP."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr

from external_orders.adapters.orders.shopware import (
    ShopwareOrderSource,
    shopware_order_source,
)
from external_orders.clock import FrozenClock
from external_orders.domain.auftrag import build_auftrag_xml
from external_orders.errors import (
    InvalidSetting,
    OrderNotFound,
    OrderSourceAuthFailed,
    OrderSourceUnavailable,
)
from external_orders.logs import configure_logging
from external_orders.settings import Settings
from external_orders.simulators.shopware import (
    ShopwareFaults,
    ShopwareState,
    Target,
    sample_orders,
)
from tests.integration.shopware_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    shopware,
    shopware_server,
    shopware_url,
    source,
)

__all__ = ["shopware", "shopware_server", "shopware_url", "source"]

MAPPING_ASSOCIATIONS = (
    "orderCustomer",
    "billingAddress",
    "deliveries",
    "lineItems",
    "transactions",
    "addresses",
    "tags",
)


@pytest.fixture
def samples(shopware: ShopwareState) -> list[dict[str, Any]]:
    return shopware.add_orders(sample_orders())


def order_id(order: dict[str, Any]) -> UUID:
    return UUID(order["id"])


def test_an_order_comes_with_every_association_the_mapping_needs(
    source: ShopwareOrderSource, samples: list[dict[str, Any]]
) -> None:
    """The stand-in leaves out what is not asked for; the source asks for all."""
    order = source.get(order_id(samples[0]))

    assert order["id"] == samples[0]["id"]
    for association in MAPPING_ASSOCIATIONS:
        assert association in order, association
    assert order["billingAddress"]["country"]["iso"]
    assert build_auftrag_xml(order).startswith("<?xml")


def test_an_unknown_order_id_is_order_not_found(
    source: ShopwareOrderSource, samples: list[dict[str, Any]]
) -> None:
    """Shopware's empty answer for an id becomes a clear OrderNotFound."""
    unknown = UUID(int=7)

    with pytest.raises(OrderNotFound) as raised:
        source.get(unknown)

    assert raised.value.order_id == unknown


def test_one_token_serves_every_request_until_it_nears_expiry(
    source: ShopwareOrderSource,
    shopware: ShopwareState,
    samples: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """Five reads use one token; 30 s before its 600 s run out a new one is got."""
    for order in samples[:5]:
        source.get(order_id(order))
    assert shopware.token_requests == 1

    clock.advance(seconds=569)
    source.get(order_id(samples[0]))
    assert shopware.token_requests == 1

    clock.advance(seconds=2)
    source.get(order_id(samples[0]))
    assert shopware.token_requests == 2
    assert shopware.search_requests == 7


def test_a_token_refused_with_401_is_renewed_and_the_request_repeated(
    source: ShopwareOrderSource, shopware: ShopwareState, samples: list[dict[str, Any]]
) -> None:
    """A token Shopware forgot (restart, revocation) costs one retry, no error."""
    source.get(order_id(samples[0]))
    shopware.expire_tokens()

    order = source.get(order_id(samples[1]))

    assert order["id"] == samples[1]["id"]
    assert shopware.token_requests == 2
    assert shopware.search_requests == 3


def test_a_fresh_token_refused_again_is_an_authentication_failure(
    source: ShopwareOrderSource, shopware: ShopwareState, samples: list[dict[str, Any]]
) -> None:
    """Two 401 in a row: OrderSourceAuthFailed, retried later like an outage."""
    shopware.set_faults(ShopwareFaults(http_status=401, fail_count=2))

    with pytest.raises(OrderSourceAuthFailed) as raised:
        source.get(order_id(samples[0]))

    assert isinstance(raised.value, OrderSourceUnavailable)
    assert "401" in str(raised.value)
    assert shopware.token_requests == 2


def test_wrong_credentials_are_named_without_the_secret(
    shopware: ShopwareState, shopware_url: str, clock: FrozenClock
) -> None:
    """A refused client secret is an authentication failure that hides it."""
    wrong = "wrong-secret-value-424242"
    with (
        ShopwareOrderSourceClosing(shopware_url, wrong, clock) as bad,
        pytest.raises(OrderSourceAuthFailed) as raised,
    ):
        bad.get(UUID(int=1))

    assert "access key id or secret" in str(raised.value)
    assert wrong not in str(raised.value)


@pytest.mark.parametrize("target", ["search", "token"])
def test_a_shopware_500_is_a_technical_error(
    source: ShopwareOrderSource,
    shopware: ShopwareState,
    samples: list[dict[str, Any]],
    target: Target,
) -> None:
    """HTTP 500 from either endpoint is OrderSourceUnavailable, not an auth error."""
    shopware.set_faults(ShopwareFaults(http_status=500, target=target))

    with pytest.raises(OrderSourceUnavailable) as raised:
        source.get(order_id(samples[0]))

    assert not isinstance(raised.value, OrderSourceAuthFailed)
    assert "HTTP 500" in raised.value.problem
    assert raised.value.order_id == order_id(samples[0])


def test_a_slow_answer_is_a_timeout(
    shopware: ShopwareState,
    shopware_url: str,
    samples: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """An answer later than the timeout is OrderSourceUnavailable saying so."""
    shopware.set_faults(ShopwareFaults(latency_seconds=1.0, target="all"))
    with (
        ShopwareOrderSourceClosing(shopware_url, CLIENT_SECRET, clock, 0.2) as slow,
        pytest.raises(OrderSourceUnavailable) as raised,
    ):
        slow.get(order_id(samples[0]))

    assert "did not answer within 0.2 s" in str(raised.value)


def test_an_unreachable_shopware_is_a_technical_error(clock: FrozenClock) -> None:
    """A refused connection is OrderSourceUnavailable."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with (
        ShopwareOrderSourceClosing(url, CLIENT_SECRET, clock) as unreachable,
        pytest.raises(OrderSourceUnavailable) as raised,
    ):
        unreachable.get(UUID(int=1))

    assert "unreachable" in str(raised.value)


def test_orders_are_listed_oldest_first_with_ties_in_id_order(
    source: ShopwareOrderSource, shopware: ShopwareState, clock: FrozenClock
) -> None:
    """Orders sharing a millisecond come by id; older ones and excluded ones not."""
    shopware.generate(2)
    start = clock.advance(seconds=1)
    tied = shopware.generate(3)
    clock.advance(milliseconds=1)
    later = shopware.generate(1)

    listed = source.created_since(start, limit=10)
    rest = source.created_since(start, exclude={order_id(tied[0])}, limit=10)

    expected = [*sorted(o["id"] for o in tied), later[0]["id"]]
    assert [o["id"] for o in listed] == expected
    assert [o["id"] for o in rest] == [i for i in expected if i != tied[0]["id"]]
    assert [o["id"] for o in source.created_since(start, limit=2)] == expected[:2]


def test_the_listing_is_a_summary_with_what_qualification_reads(
    source: ShopwareOrderSource, shopware: ShopwareState, clock: FrozenClock
) -> None:
    """A listed order has state, payment, channel, tags and custom fields only."""
    shopware.generate(1, tags=[{"id": "1" * 32, "name": "test", "apiAlias": "tag"}])

    (summary,) = source.created_since(clock.now() - timedelta(seconds=1), limit=5)

    assert summary["stateMachineState"] == {
        "technicalName": "open",
        "apiAlias": "state_machine_state",
    }
    assert summary["transactions"][0]["stateMachineState"]["technicalName"] == "open"
    assert summary["tags"][0]["name"] == "test"
    assert {"salesChannelId", "customFields", "createdAt"} <= summary.keys()
    assert "lineItems" not in summary and "price" not in summary


def test_threads_share_one_token(
    source: ShopwareOrderSource, shopware: ShopwareState, samples: list[dict[str, Any]]
) -> None:
    """Sixteen threads reading at once fetch one token between them."""
    errors: list[BaseException] = []

    def read() -> None:
        try:
            source.get(order_id(samples[0]))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert shopware.token_requests == 1


def test_check_says_shopware_answers_and_counts_the_orders(
    source: ShopwareOrderSource, samples: list[dict[str, Any]]
) -> None:
    """The doctor's line names the shop and how many orders it has."""
    line = source.check()

    assert "credentials accepted" in line
    assert f"({len(samples)} orders)" in line


def test_neither_secret_nor_token_reaches_the_log(
    shopware: ShopwareState,
    shopware_url: str,
    samples: list[dict[str, Any]],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    """Token fetches, renewals and failures log no client secret and no token."""
    log_file = configure_logging(tmp_path / "log", to_stderr=False)
    with ShopwareOrderSourceClosing(shopware_url, CLIENT_SECRET, clock) as logged:
        logged.get(order_id(samples[0]))
        shopware.expire_tokens()
        logged.get(order_id(samples[0]))
        shopware.set_faults(ShopwareFaults(http_status=503, target="all"))
        with pytest.raises(OrderSourceUnavailable):
            logged.get(order_id(samples[0]))

    text = log_file.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["message"] for line in lines].count(
        "Shopware access token obtained."
    ) == 2
    assert CLIENT_SECRET not in text
    for token in shopware.issued_tokens():
        assert token not in text


@pytest.mark.parametrize(
    ("missing", "variable"),
    [
        ("shopware_url", "EXTERNAL_ORDERS_SHOPWARE_URL"),
        ("shopware_client_id", "EXTERNAL_ORDERS_SHOPWARE_CLIENT_ID"),
        ("shopware_client_secret", "EXTERNAL_ORDERS_SHOPWARE_CLIENT_SECRET"),
    ],
)
def test_a_missing_shopware_setting_is_named(
    missing: str, variable: str, clock: FrozenClock
) -> None:
    """The shopware source needs its URL and the integration's key and secret."""
    values: dict[str, Any] = {
        "order_source": "shopware",
        "shopware_url": "https://shop.example",
        "shopware_client_id": CLIENT_ID,
        "shopware_client_secret": SecretStr(CLIENT_SECRET),
        missing: None,
    }

    with pytest.raises(InvalidSetting) as raised:
        shopware_order_source(Settings(**values), clock)

    assert raised.value.key == variable


class ShopwareOrderSourceClosing(ShopwareOrderSource):
    """A source with the test's client id, closed when the block ends."""

    def __init__(
        self, url: str, secret: str, clock: FrozenClock, timeout: float = 5.0
    ) -> None:
        super().__init__(url, CLIENT_ID, secret, clock=clock, timeout=timeout)

    def __enter__(self) -> ShopwareOrderSourceClosing:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
