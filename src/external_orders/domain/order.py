"""Shopware 6 orders as the Admin API gives them, and order files holding them.

An order is the plain JSON entity of ``POST /api/search/order`` (camelCase,
``Accept: application/json``), kept as a dict exactly as received. This module
reads the few fields the service itself needs (id, number, creation time) and
checks order files before they are imported. It never changes an order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from external_orders.errors import InvalidOrderDocument, InvalidOrderId

_HEX_UUID = re.compile(r"[0-9a-fA-F]{32}")
_DASHED_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# XML 1.0 forbids C0 controls (but tab, LF, CR), surrogates, U+FFFE/U+FFFF;
# DEL and the C1 controls are allowed but discouraged, and SAN6 need none.
_FORBIDDEN_IN_XML = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
)
_SHOWN_VALUE_LENGTH = 40
_NO_ID = "no id"


def parse_order_id(value: str) -> UUID:
    """The order id written as 32 hex digits or as a dashed UUID, in any case.

    Surrounding white space is ignored. Every other form (braces, ``urn:uuid:``,
    inner spaces, missing digits) raises ``InvalidOrderId``.
    """
    if not isinstance(value, str):
        raise InvalidOrderId(repr(value))
    text = value.strip()
    if not (_HEX_UUID.fullmatch(text) or _DASHED_UUID.fullmatch(text)):
        raise InvalidOrderId(value)
    return UUID(text)


def order_id_of(order: Mapping[str, Any]) -> UUID:
    """The id of ``order``; raises ``InvalidOrderDocument`` when it has none."""
    problem = _id_problem(order)
    if problem is not None:
        raise InvalidOrderDocument("order", problem)
    return parse_order_id(order["id"])


def order_number_of(order: Mapping[str, Any]) -> str | None:
    """The order number as text (a number is written in digits), or None."""
    number = text_of(order.get("orderNumber"))
    return number or None


def created_at_of(order: Mapping[str, Any]) -> datetime | None:
    """When the order entity was created, aware in UTC; None if unknown."""
    return timestamp_of(order.get("createdAt"))


def timestamp_of(value: object) -> datetime | None:
    """An ISO 8601 time stamp as an aware UTC datetime; None if it is not one.

    Shopware writes ``2026-11-30T14:03:12.123+00:00``; ``Z`` and other offsets
    are accepted too, and a time without offset is taken as UTC.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def text_of(value: object) -> str:
    """A JSON value as document text: trimmed, without what XML 1.0 forbids.

    Strings and numbers give text (``10001.0`` gives ``10001``); null,
    booleans, lists and objects give the empty string. Forbidden characters
    are control characters other than tab, line feed and carriage return,
    U+FFFE, U+FFFF and lone surrogates; they are removed before trimming.
    """
    if isinstance(value, str):
        raw = value
    elif isinstance(value, bool):
        return ""
    elif isinstance(value, int):
        raw = _integer_text(value)
    elif isinstance(value, float):
        raw = _float_text(value)
    else:
        return ""
    return _FORBIDDEN_IN_XML.sub("", raw).strip()


def mapping_of(value: object) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def list_of(value: object) -> list[object]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def orders_in_document(raw: object, source: str) -> list[dict[str, Any]]:
    """The orders of a parsed order file, each dict exactly as given.

    The file holds one order object or a Shopware search result
    ``{"data": [...], "total": ...}``; a result with an empty ``data`` holds no
    orders. Every order is checked before any is returned: one bad order
    raises ``InvalidOrderDocument(source, problem)`` naming it by its
    1-based place in ``data``.
    """
    if not isinstance(raw, dict):
        raise InvalidOrderDocument(source, "not a JSON object")
    if "data" in raw and "id" not in raw:
        return _orders_in_search_result(raw["data"], source)

    problem = _order_problem(raw)
    if problem == _NO_ID:
        problem = f"not an order: {_NO_ID}"
    if problem is not None:
        raise InvalidOrderDocument(source, problem)
    return [raw]


def _orders_in_search_result(data: object, source: str) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise InvalidOrderDocument(source, "data must be a list")
    seen: set[UUID] = set()
    for place, order in enumerate(data, start=1):
        problem = _order_problem(order) or _repeated_id_problem(order, seen)
        if problem is not None:
            raise InvalidOrderDocument(source, f"order {place}: {problem}")
    return list(data)


def _repeated_id_problem(order: Mapping[str, Any], seen: set[UUID]) -> str | None:
    """Records the id of a valid ``order``; a problem if it was seen before."""
    order_id = parse_order_id(order["id"])
    if order_id in seen:
        return f"duplicate id {_shown(order['id'])}"
    seen.add(order_id)
    return None


def _order_problem(order: object) -> str | None:
    if not isinstance(order, dict):
        return "not a JSON object"
    if "attributes" in order and "type" in order:
        return "a JSON:API resource; fetch orders with Accept: application/json"

    problem = _id_problem(order)
    if problem is not None:
        return problem

    line_items = order.get("lineItems")
    if line_items is not None and not isinstance(line_items, list):
        return "lineItems must be a list"
    return None


def _id_problem(order: Mapping[str, Any]) -> str | None:
    value = order.get("id")
    if value is None:
        return _NO_ID
    try:
        parse_order_id(value)
    except InvalidOrderId:
        return f"id {_shown(value)} is not a UUID"
    return None


def _shown(value: object) -> str:
    shown = repr(value)
    if len(shown) <= _SHOWN_VALUE_LENGTH:
        return shown
    return shown[: _SHOWN_VALUE_LENGTH - 3] + "..."


def _integer_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # more digits than Python converts to text
        return ""


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        return ""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)
