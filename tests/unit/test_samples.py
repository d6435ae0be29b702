"""The sample orders shipped with the package."""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest

from external_orders.domain.article import product_line_items
from external_orders.domain.auftrag import MANDATORY_NODES, build_auftrag_xml
from external_orders.domain.order import (
    created_at_of,
    order_id_of,
    order_number_of,
    orders_in_document,
)

SAMPLE_NAME = re.compile(r"[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*\.json")
HEX_ID = re.compile(r"[0-9a-f]{32}")


def sample_files() -> list[Traversable]:
    folder = resources.files("external_orders") / "samples" / "orders"
    return sorted(
        (path for path in folder.iterdir() if path.name.endswith(".json")),
        key=lambda path: path.name,
    )


NAMES = [path.name for path in sample_files()]


@functools.cache
def all_samples() -> dict[str, dict[str, Any]]:
    """Every sample order by file name, read once through orders_in_document."""
    samples = {}
    for path in sample_files():
        orders = orders_in_document(json.loads(path.read_text("utf-8")), path.name)
        assert len(orders) == 1, path.name
        samples[path.name] = orders[0]
    return samples


def products(order: dict[str, Any]) -> list[Any]:
    return product_line_items(order["lineItems"])


def test_there_are_at_least_eight_samples_with_numbered_names() -> None:
    """At least eight samples exist, named like 01-b2b-company.json."""
    assert len(all_samples()) >= 8
    assert all(SAMPLE_NAME.fullmatch(name) for name in all_samples())


@pytest.mark.parametrize("name", NAMES)
def test_each_sample_gives_a_valid_document(name: str) -> None:
    """Every sample builds to a document with all mandatory nodes."""
    order = all_samples()[name]

    root = SafeET.fromstring(build_auftrag_xml(order).encode("utf-8"))

    assert all(root.find(node) is not None for node in MANDATORY_NODES), name
    assert root.findtext("Referenz") == order_number_of(order)
    assert len(root.findall("Positionen/Position")) == len(products(order))


@pytest.mark.parametrize("name", NAMES)
def test_each_sample_has_the_admin_api_entity_shape(name: str) -> None:
    """Samples look like Admin API order entities with their associations."""
    order = all_samples()[name]
    delivery = order["deliveries"][0]

    assert order["apiAlias"] == "order"
    assert HEX_ID.fullmatch(order["id"])
    assert order["stateMachineState"]["technicalName"] == "open"
    assert order["billingAddress"]["country"]["iso"]
    assert delivery["shippingOrderAddress"]["country"]["iso"]
    assert order["transactions"][0]["paymentMethod"]["technicalName"]
    assert all(HEX_ID.fullmatch(item["id"]) for item in order["lineItems"])


def test_order_numbers_and_ids_are_unique() -> None:
    """No two samples share an order number or an id."""
    numbers = [order_number_of(order) for order in all_samples().values()]
    ids = [order_id_of(order) for order in all_samples().values()]

    assert len(set(numbers)) == len(all_samples())
    assert len(set(ids)) == len(all_samples())


def test_each_sample_was_created_at_a_distinct_time_in_late_november_2026() -> None:
    """createdAt differs between samples and lies in 20-30 November 2026."""
    created = [created_at_of(order) for order in all_samples().values()]
    start = datetime(2026, 11, 20, tzinfo=UTC)
    end = datetime(2026, 12, 1, tzinfo=UTC)

    assert all(moment is not None and start <= moment < end for moment in created)
    assert len(set(created)) == len(all_samples())


def test_a_b2b_sample_ships_elsewhere_than_it_bills() -> None:
    """One company order has a delivery address other than its billing address."""
    assert any(
        order["billingAddress"]["company"]
        and order["deliveries"][0]["shippingOrderAddress"]["street"]
        != order["billingAddress"]["street"]
        for order in all_samples().values()
    )


def test_a_guest_sample_has_no_customer_number() -> None:
    """One sample is a guest order without customer number."""
    assert any(
        not order["orderCustomer"]["customerNumber"] for order in all_samples().values()
    )


def test_samples_cover_the_line_item_kinds() -> None:
    """Variants with options, promotions, custom items and containers all occur."""
    items = [item for order in all_samples().values() for item in order["lineItems"]]

    assert {"product", "promotion", "custom", "container"} <= {
        item["type"] for item in items
    }
    assert any(item["payload"].get("options") for item in items)
    assert any(item["parentId"] for item in items)


def test_a_sample_nests_containers_in_containers() -> None:
    """One container sits inside another, and its products are still exported."""
    for order in all_samples().values():
        containers = {
            item["id"]: item
            for item in order["lineItems"]
            if item["type"] == "container"
        }
        if any(item["parentId"] in containers for item in containers.values()):
            assert all(item["type"] == "product" for item in products(order))
            return
    pytest.fail("no sample nests containers")


def test_a_sample_carries_attachments() -> None:
    """One sample has attachments and their names in customFields."""
    assert any(
        (order["customFields"] or {}).get("externalOrderAttachments")
        and (order["customFields"] or {}).get("externalOrderAttachmentNames")
        for order in all_samples().values()
    )


def test_a_sample_has_150_product_lines() -> None:
    """One sample is a large order of 150 product line items."""
    assert any(len(products(order)) == 150 for order in all_samples().values())


def test_a_sample_has_umlauts_accents_ampersands_and_apostrophes() -> None:
    """Special characters occur in at least one sample's document."""
    documents = [build_auftrag_xml(order) for order in all_samples().values()]

    for needle in ("ü", "é", "&amp;", "'"):
        assert any(needle in document for document in documents), needle
