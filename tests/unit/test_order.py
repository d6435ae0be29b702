"""Order ids, order fields and order files."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from external_orders.domain.order import (
    created_at_of,
    order_id_of,
    order_number_of,
    orders_in_document,
    parse_order_id,
    text_of,
)
from external_orders.errors import InvalidOrderDocument, InvalidOrderId

HEX = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DASHED = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
ORDER_ID = UUID(HEX)


def an_order(order_id: str = HEX, **fields: Any) -> dict[str, Any]:
    return {"id": order_id, "orderNumber": "10001", "lineItems": [], **fields}


@pytest.mark.parametrize(
    "value",
    [HEX, HEX.upper(), DASHED, DASHED.upper(), f"  {HEX}\n", "0A1b2C3d" + HEX[8:]],
)
def test_parse_order_id_accepts_hex_and_dashed_forms(value: str) -> None:
    """32 hex digits and the dashed form, in any case, with white space around."""
    assert parse_order_id(value) == ORDER_ID


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        HEX[:-1],
        HEX + "0",
        "g" + HEX[1:],
        "{" + DASHED + "}",
        "urn:uuid:" + DASHED,
        DASHED.replace("-", "", 1),
        "0a1b2c3d4e5f-6071-8293-a4b5c6d7e8f9",
        "0a1b2c3d-4e5f6071-8293-a4b5c6d7e8f9",
        HEX[:16] + " " + HEX[16:],
        "１" + HEX[1:],
        "not-a-uuid",
    ],
)
def test_parse_order_id_rejects_every_other_form(value: str) -> None:
    """Braces, urn prefixes, wrong lengths and stray characters are not ids."""
    with pytest.raises(InvalidOrderId) as raised:
        parse_order_id(value)

    assert raised.value.value == value


def test_order_id_of_reads_the_id() -> None:
    """The id of an order is its ``id`` field as a UUID."""
    assert order_id_of(an_order(DASHED)) == ORDER_ID


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        ({}, "no id"),
        ({"id": None}, "no id"),
        ({"id": "abc"}, "id 'abc' is not a UUID"),
        ({"id": 12}, "id 12 is not a UUID"),
    ],
)
def test_order_id_of_rejects_an_order_without_a_valid_id(
    order: dict[str, Any], problem: str
) -> None:
    """A missing or invalid id is an invalid order document."""
    with pytest.raises(InvalidOrderDocument) as raised:
        order_id_of(order)

    assert (raised.value.source, raised.value.problem) == ("order", problem)


@pytest.mark.parametrize(
    ("value", "number"),
    [("10001", "10001"), ("  10001 \n", "10001"), (10001, "10001"), (10001.0, "10001")],
)
def test_order_number_of_reads_text_and_numbers(value: object, number: str) -> None:
    """The order number is trimmed text; a number is written in digits."""
    assert order_number_of({"orderNumber": value}) == number


@pytest.mark.parametrize("value", [None, "", "  ", "\x00", True, [], {}, float("nan")])
def test_order_number_of_is_none_without_a_number(value: object) -> None:
    """Empty, boolean, container and non-finite values give no order number."""
    assert order_number_of({"orderNumber": value}) is None


def test_order_number_of_is_none_when_absent() -> None:
    """An order without the field has no number."""
    assert order_number_of({}) is None


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2026-11-30T14:03:12.123+00:00", datetime(2026, 11, 30, 14, 3, 12, 123000)),
        ("2026-11-30T14:03:12Z", datetime(2026, 11, 30, 14, 3, 12)),
        ("2026-11-30T01:00:00+02:00", datetime(2026, 11, 29, 23, 0, 0)),
        ("2026-11-30T14:03:12", datetime(2026, 11, 30, 14, 3, 12)),
    ],
)
def test_created_at_of_is_aware_utc(value: str, moment: datetime) -> None:
    """createdAt in any offset becomes UTC; without offset it is taken as UTC."""
    created_at = created_at_of({"createdAt": value})

    assert created_at == moment.replace(tzinfo=UTC)
    assert created_at is not None and created_at.utcoffset() is not None


@pytest.mark.parametrize(
    "order",
    [{}, {"createdAt": None}, {"createdAt": "yesterday"}, {"createdAt": 1764511392}],
)
def test_created_at_of_is_none_when_unknown(order: dict[str, Any]) -> None:
    """A missing, non-text or unparseable createdAt gives None."""
    assert created_at_of(order) is None


def test_created_at_of_is_none_when_utc_is_out_of_range() -> None:
    """A time that has no UTC equivalent in range gives None, not an error."""
    assert created_at_of({"createdAt": "0001-01-01T00:30:00+01:00"}) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("  Zoë \t", "Zoë"),
        ("a\x00b\x1fc\x0b", "abc"),
        ("\ufffea\uffff", "a"),
        ("x\ud800y", "xy"),
        (" \x00 keep\ttab\r\nlines \x01", "keep\ttab\r\nlines"),
        (12, "12"),
        (12.5, "12.5"),
        (-3.0, "-3"),
        (None, ""),
        (False, ""),
        (["a"], ""),
        ({"a": 1}, ""),
        (float("inf"), ""),
    ],
)
def test_text_of_gives_xml_safe_trimmed_text(value: object, text: str) -> None:
    """Forbidden characters go, then white space around; non-texts are empty."""
    assert text_of(value) == text


def test_orders_in_document_reads_a_single_order() -> None:
    """A file with one order object gives that very dict, unchanged."""
    order = an_order(DASHED.upper())

    assert orders_in_document(order, "one.json") == [order]
    assert orders_in_document(order, "one.json")[0] is order


def test_orders_in_document_reads_a_search_result() -> None:
    """A search result gives its data list, total and other keys ignored."""
    orders = [an_order(), an_order(DASHED.replace("0a1b", "ffff"))]
    document = {"total": 2, "data": orders, "aggregations": []}

    assert orders_in_document(document, "result.json") == orders


def test_orders_in_document_reads_an_empty_search_result() -> None:
    """A search result with no data holds no orders."""
    assert orders_in_document({"total": 0, "data": []}, "empty.json") == []


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([an_order()], "not a JSON object"),
        ("order", "not a JSON object"),
        (None, "not a JSON object"),
        ({"data": {"id": HEX}}, "data must be a list"),
        ({"data": None}, "data must be a list"),
        ({"orderNumber": "10001"}, "not an order: no id"),
        (an_order("abc"), "id 'abc' is not a UUID"),
        (an_order(lineItems={"a": 1}), "lineItems must be a list"),
    ],
)
def test_orders_in_document_rejects_a_bad_file(document: object, problem: str) -> None:
    """A file that is no order, or a bad order, says what is wrong in one line."""
    with pytest.raises(InvalidOrderDocument) as raised:
        orders_in_document(document, "bad.json")

    assert (raised.value.source, raised.value.problem) == ("bad.json", problem)
    assert str(raised.value) == f"bad.json: {problem}"


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("abc", "order 3: id 'abc' is not a UUID"),
        (["not", "an", "order"], "order 3: not a JSON object"),
        ({"orderNumber": "1"}, "order 3: no id"),
    ],
)
def test_orders_in_document_rejects_the_whole_result_for_one_bad_order(
    bad: object, problem: str
) -> None:
    """One bad order in data rejects the file, naming the order by its place."""
    third = an_order(bad) if isinstance(bad, str) else bad
    orders = [an_order(), an_order("1" * 32), third, an_order("2" * 32)]

    with pytest.raises(InvalidOrderDocument) as raised:
        orders_in_document({"data": orders}, "result.json")

    assert raised.value.problem == problem


def test_orders_in_document_rejects_a_repeated_id() -> None:
    """The same order twice in one result is rejected, whatever its spelling."""
    orders = [an_order(HEX), an_order(DASHED.upper())]

    with pytest.raises(InvalidOrderDocument) as raised:
        orders_in_document({"data": orders}, "result.json")

    assert raised.value.problem == f"order 2: duplicate id {DASHED.upper()!r}"


def test_orders_in_document_rejects_json_api_resources() -> None:
    """A JSON:API resource names the Accept header that gives plain entities."""
    resource = {"id": HEX, "type": "order", "attributes": {"orderNumber": "1"}}

    with pytest.raises(InvalidOrderDocument) as raised:
        orders_in_document({"data": [resource]}, "api.json")

    assert "Accept: application/json" in raised.value.problem


def test_orders_in_document_shortens_a_long_bad_id() -> None:
    """A long invalid id is cut so that the problem stays one short line."""
    with pytest.raises(InvalidOrderDocument) as raised:
        orders_in_document(an_order("x" * 500), "long.json")

    assert len(raised.value.problem) < 80
