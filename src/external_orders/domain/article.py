"""The articles of an order: the line items that become ``Position`` elements.

Every line item of type ``product`` is an article, however deep it sits under
containers. Its article number and size come from the line item's
``payload``, never from Shopware's internal ids: SAN6 knows articles only by
their number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, DecimalException
from typing import Any

from external_orders.domain.order import list_of, mapping_of, text_of
from external_orders.errors import OrderNotExportable

ARTICLE_NUMBER_KEYS = (
    "topmArticleNumber",
    "TopmArticleNumber",
    "articleNumber",
    "Artikelnummer",
    "artikelnummer",
    "Referenz",
    "referenz",
    "productNumber",
)
"""Payload keys holding the article number, the first non-empty one wins."""

SIZE_KEYS = ("Gr", "gr", "topmExecution", "TopmExecution", "size", "variant", "option")
"""Payload keys holding the size (``Gr``), before the article number's variant."""

_VARIANT = re.compile(r"(?P<reference>.*?\S)(?:\.|\s+)(?P<variant>[0-9]{1,2})", re.S)
_CENT = Decimal("0.01")
_LARGEST_PRICE = Decimal(10) ** 12
_LARGEST_QUANTITY = Decimal(10) ** 15
_UNPLACED = 1


@dataclass(frozen=True)
class Article:
    """One ``Position``: texts as they go into the document."""

    reference: str
    label: str
    size: str
    quantity: int
    price: str


def articles_of(order: Mapping[str, Any]) -> list[Article]:
    """The articles of ``order`` in document order; may be empty.

    Raises ``OrderNotExportable`` when a product line item has no article
    number or no positive whole quantity.
    """
    products = product_line_items(order.get("lineItems"))
    return [article_of(item, place) for place, item in enumerate(products, 1)]


def article_of(line_item: Mapping[str, Any], place: int) -> Article:
    """The article of one product line item, the ``place``-th of its order."""
    payload = mapping_of(line_item.get("payload"))
    label = text_of(line_item.get("label"))
    name = repr(label) if label else str(place)

    number = article_number_of(payload)
    if not number:
        raise OrderNotExportable(f"line item {name} has no article number")
    reference, variant = split_variant(number)

    quantity = _quantity(line_item.get("quantity"))
    if quantity is None:
        raise OrderNotExportable(f"line item {name} has no valid quantity")

    size = size_code(_first_text(payload, SIZE_KEYS) or variant)
    price = price_text(line_item.get("unitPrice"))
    if price is None:
        raise OrderNotExportable(f"line item {name} has no valid unit price")
    return Article(reference, label, size, quantity, price)


def article_number_of(payload: Mapping[str, Any]) -> str:
    """The first non-empty article number of ``payload``; empty if none."""
    return _first_text(payload, ARTICLE_NUMBER_KEYS)


def split_variant(number: str) -> tuple[str, str]:
    """The reference and variant of an article number.

    A last group of one or two digits after a dot or white space is the
    variant: ``ART.01`` and ``ART   01`` give ``("ART", "01")``, ``ABC 123 1``
    gives ``("ABC 123", "1")``. ``ART-01``, ``ART01`` and ``ART.123`` have no
    variant and are returned whole with an empty variant.
    """
    match = _VARIANT.fullmatch(number)
    if match is None:
        return number, ""
    return match["reference"], match["variant"]


def size_code(size: str) -> str:
    """``Gr``: upper case, two characters, padded left with ``0`` (``3``: ``03``)."""
    code = size.upper()[:2].strip()
    return code.rjust(2, "0")


def price_text(value: object) -> str | None:
    """A unit price with two decimals, rounded half up; None if not a price.

    Numbers and numeric strings are prices, and a missing price (null) is
    0.00; anything else, and amounts of a trillion or more, are not prices:
    sending them as 0.00 would put a wrong amount in the ERP.
    """
    if value is None:
        return "0.00"
    amount = _decimal(value)
    if amount is None or abs(amount) >= _LARGEST_PRICE:
        return None

    rounded = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    return f"{rounded.copy_abs() if rounded.is_zero() else rounded:f}"


def product_line_items(line_items: object) -> list[Mapping[str, Any]]:
    """The product line items of a ``lineItems`` list, nested ones included.

    Items nest through their ``children`` list and through a ``parentId``
    naming another item (Shopware's flat form). Parents come before their
    children, siblings by ``position`` and then by their order in the input;
    an id met twice counts once. Items caught in a ``parentId`` loop come
    last, in input order.
    """
    items, parents = _gathered(line_items)
    children = _children_by_parent(items, parents)
    roots = sorted(
        (item for item in items if id(item) not in parents), key=_position_key
    )

    ordered = _depth_first([*roots, *items], children)
    return [item for item in ordered if item.get("type") == "product"]


def _depth_first(
    starts: list[Mapping[str, Any]], children: dict[int, list[Mapping[str, Any]]]
) -> list[Mapping[str, Any]]:
    """Each item once, parents before children, walked without recursion."""
    ordered: list[Mapping[str, Any]] = []
    visited: set[int] = set()
    stack = list(reversed(starts))
    while stack:
        item = stack.pop()
        if id(item) in visited:
            continue
        visited.add(id(item))
        ordered.append(item)
        siblings = sorted(children.get(id(item), []), key=_position_key)
        stack.extend(reversed(siblings))
    return ordered


def _gathered(
    line_items: object,
) -> tuple[list[Mapping[str, Any]], dict[int, Mapping[str, Any]]]:
    """Every line item once, and the parent of each one that has a parent."""
    items: list[Mapping[str, Any]] = []
    seen: set[int] = set()
    by_id: dict[str, Mapping[str, Any]] = {}
    parents: dict[int, Mapping[str, Any]] = {}
    pending: list[tuple[object, Mapping[str, Any] | None]] = [
        (item, None) for item in reversed(list_of(line_items))
    ]
    while pending:
        item, parent = pending.pop()
        if not isinstance(item, Mapping) or not _is_new(item, seen, by_id):
            continue
        items.append(item)
        if parent is not None:
            parents[id(item)] = parent
        nested = list_of(item.get("children"))
        pending.extend((child, item) for child in reversed(nested))

    for item in items:
        parent = by_id.get(_text_id(item.get("parentId")))
        if id(item) not in parents and parent is not None and parent is not item:
            parents[id(item)] = parent
    return items, parents


def _is_new(
    item: Mapping[str, Any],
    seen: set[int],
    by_id: dict[str, Mapping[str, Any]],
) -> bool:
    """Records ``item`` unless its id, or the object itself, was met before."""
    key = _text_id(item.get("id"))
    if key in by_id or id(item) in seen:
        return False
    if key:
        by_id[key] = item
    seen.add(id(item))
    return True


def _children_by_parent(
    items: list[Mapping[str, Any]], parents: dict[int, Mapping[str, Any]]
) -> dict[int, list[Mapping[str, Any]]]:
    children: dict[int, list[Mapping[str, Any]]] = {}
    for item in items:
        parent = parents.get(id(item))
        if parent is not None:
            children.setdefault(id(parent), []).append(item)
    return children


def _position_key(item: Mapping[str, Any]) -> tuple[int, int]:
    position = item.get("position")
    if isinstance(position, int) and not isinstance(position, bool):
        return (0, position)
    return (_UNPLACED, 0)


def _quantity(value: object) -> int | None:
    amount = _decimal(value)
    if amount is None or not 0 < amount < _LARGEST_QUANTITY:
        return None
    if amount != amount.to_integral_value():
        return None
    return int(amount)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else value)
    except (DecimalException, ValueError):
        return None
    return amount if amount.is_finite() else None


def _first_text(payload: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        text = text_of(payload.get(key))
        if text:
            return text
    return ""


def _text_id(value: object) -> str:
    return value if isinstance(value, str) else ""
