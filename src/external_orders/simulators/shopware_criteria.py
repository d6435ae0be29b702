"""How the Shopware stand-in reads search criteria, as Shopware's DAL would.

``ids``, ``filter`` (equals, equalsAny, range, contains, multi, not) on
dotted field paths (lists on the way are walked through), ``sort``,
``limit``, ``page``, ``total-count-mode``, ``associations`` (top-level ones
are left out unless asked for) and ``includes``. Dates compare at
millisecond precision and ids as lowercase hex, like Shopware's storage.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from external_orders.clock import millisecond
from external_orders.domain.order import timestamp_of

ASSOCIATIONS = frozenset(
    {
        "orderCustomer",
        "addresses",
        "billingAddress",
        "deliveries",
        "lineItems",
        "transactions",
        "tags",
        "currency",
        "language",
        "salesChannel",
        "documents",
    }
)
"""Top-level order associations, left out unless the criteria ask for them;
``stateMachineState`` is always loaded, as in Shopware."""
TO_MANY = frozenset({"addresses", "deliveries", "lineItems", "transactions", "tags"})


class CriteriaError(ValueError):
    """Criteria the stand-in (or Shopware) cannot read; answered with 400."""


def run_criteria(
    criteria: dict[str, Any], orders: list[dict[str, Any]]
) -> tuple[int, list[dict[str, Any]]]:
    """The total (as total-count-mode asks) and the page of ``orders`` matching.

    Raises ``CriteriaError`` for criteria it cannot read.
    """
    _selected(criteria, {"id": ""})  # reads every filter, even with no orders
    matching = [order for order in orders if _selected(criteria, order)]
    matching = _sorted(matching, criteria.get("sort") or [])

    limit, page = _paging(criteria)
    offset = (page - 1) * limit if limit is not None else 0
    shown = matching[offset : offset + limit] if limit is not None else matching

    total = _total(criteria.get("total-count-mode", 0), len(matching), offset, limit)
    associations = criteria.get("associations") or {}
    includes = criteria.get("includes") or {}
    if not isinstance(associations, dict) or not isinstance(includes, dict):
        raise CriteriaError("associations and includes must be objects")
    return total, [_shaped(order, associations, includes) for order in shown]


def _selected(criteria: dict[str, Any], order: dict[str, Any]) -> bool:
    ids = criteria.get("ids")
    if ids is not None:
        wanted = ids.split("|") if isinstance(ids, str) else ids
        if not isinstance(wanted, list):
            raise CriteriaError("ids must be a list")
        if order["id"] not in {str(i).replace("-", "").lower() for i in wanted}:
            return False
    filters = criteria.get("filter") or []
    if not isinstance(filters, list):
        raise CriteriaError("filter must be a list")
    return all(_matches(order, query) for query in filters)


def _matches(order: dict[str, Any], query: Any) -> bool:
    if not isinstance(query, dict):
        raise CriteriaError("a filter must be an object")
    kind = query.get("type")
    if kind in ("multi", "not"):
        parts = [_matches(order, inner) for inner in query.get("queries") or []]
        either = str(query.get("operator", "and")).lower() == "or"
        result = any(parts) if either else all(parts)
        return not result if kind == "not" else result

    field_name = _field(query)
    values = _values(order, field_name)
    test = _TESTS.get(str(kind))
    if test is None:
        raise CriteriaError(f"unsupported filter type {kind!r}")
    return any(test(field_name, value, query) for value in values or [None])


def _equals(name: str, value: Any, query: dict[str, Any]) -> bool:
    return bool(_comparable(name, value) == _comparable(name, query.get("value")))


def _equals_any(name: str, value: Any, query: dict[str, Any]) -> bool:
    wanted = query.get("value")
    if isinstance(wanted, str):
        wanted = wanted.split("|")
    if not isinstance(wanted, list):
        raise CriteriaError("equalsAny needs a list value")
    return _comparable(name, value) in {_comparable(name, item) for item in wanted}


def _contains(name: str, value: Any, query: dict[str, Any]) -> bool:
    return isinstance(value, str) and str(query.get("value", "")) in value


def _in_range(name: str, value: Any, query: dict[str, Any]) -> bool:
    parameters = query.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        raise CriteriaError("range needs parameters")
    actual = _comparable(name, value)
    if actual is None:
        return False
    checks: dict[str, Callable[[Any, Any], bool]] = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    for operator, bound in parameters.items():
        if operator not in checks:
            raise CriteriaError(f"unknown range operator {operator!r}")
        limit = _comparable(name, bound)
        if limit is None or not checks[operator](actual, limit):
            return False
    return True


_TESTS: dict[str, Callable[[str, Any, dict[str, Any]], bool]] = {
    "equals": _equals,
    "equalsAny": _equals_any,
    "contains": _contains,
    "range": _in_range,
}


def _field(query: dict[str, Any]) -> str:
    name = query.get("field")
    if not isinstance(name, str) or not name:
        raise CriteriaError("a filter needs a field")
    return name.removeprefix("order.")


def _values(order: dict[str, Any], path: str) -> list[Any]:
    """The values at a dotted path; lists on the way are walked through."""
    current: list[Any] = [order]
    for part in path.split("."):
        following: list[Any] = []
        for item in current:
            items = item if isinstance(item, list) else [item]
            following.extend(i.get(part) for i in items if isinstance(i, dict))
        current = following
    return [value for value in current if value is not None]


def _comparable(name: str, value: Any) -> Any:
    """Dates as datetimes (cut to milliseconds), ids in lowercase hex."""
    last = name.rsplit(".", 1)[-1]
    if last.endswith("At") or last.endswith("Date") or last.endswith("DateTime"):
        moment = timestamp_of(value)
        if moment is None:
            return None
        return millisecond(moment)
    if (last == "id" or last.endswith("Id")) and isinstance(value, str):
        return value.replace("-", "").lower()
    return value


def _sorted(orders: list[dict[str, Any]], sort: Any) -> list[dict[str, Any]]:
    if not isinstance(sort, list):
        raise CriteriaError("sort must be a list")
    # Stable sorts applied from the last key to the first give the full order.
    for sorting in reversed(sort):
        if not isinstance(sorting, dict) or not isinstance(sorting.get("field"), str):
            raise CriteriaError("a sorting needs a field")
        name = sorting["field"].removeprefix("order.")
        descending = str(sorting.get("order", "ASC")).upper() == "DESC"
        orders = sorted(orders, key=_sort_key_of(name), reverse=descending)
    return orders


def _sort_key_of(name: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda order: _sort_key(name, order)


def _sort_key(name: str, order: dict[str, Any]) -> tuple[int, Any]:
    values = _values(order, name)
    value = _comparable(name, values[0]) if values else None
    # NULL first, as MySQL sorts it ascending.
    return (0, "") if value is None else (1, value)


def _paging(criteria: dict[str, Any]) -> tuple[int | None, int]:
    limit = criteria.get("limit")
    page = criteria.get("page", 1)
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise CriteriaError("limit must be a positive integer")
    if not isinstance(page, int) or page < 1:
        raise CriteriaError("page must be a positive integer")
    return limit, page


def _total(mode: Any, matching: int, offset: int, limit: int | None) -> int:
    shown = max(0, min(matching - offset, limit if limit is not None else matching))
    if mode == 1:
        return matching
    if mode == 2 and limit is not None:
        # Shopware looks five pages ahead to tell whether more pages follow.
        return min(matching, offset + 5 * limit + 1)
    return shown


def _shaped(
    order: dict[str, Any], associations: dict[str, Any], includes: dict[str, Any]
) -> dict[str, Any]:
    shaped = copy.deepcopy(order)
    for name in ASSOCIATIONS:
        if name not in associations:
            shaped.pop(name, None)
        elif name not in shaped:
            shaped[name] = [] if name in TO_MANY else None
    included: dict[str, Any] = _included(shaped, includes)
    return included


def _included(value: Any, includes: dict[str, Any]) -> Any:
    """``value`` with every entity cut to the fields ``includes`` names for it."""
    if isinstance(value, list):
        return [_included(item, includes) for item in value]
    if not isinstance(value, dict):
        return value
    alias = value.get("apiAlias")
    kept = includes.get(alias) if isinstance(alias, str) else None
    result = {}
    for key, item in value.items():
        if kept is None or key in kept or key == "apiAlias":
            result[key] = _included(item, includes)
    return result
