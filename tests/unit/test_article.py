"""Articles: which line items become positions, and their numbers and sizes."""

from __future__ import annotations

from typing import Any

import pytest

from external_orders.domain.article import (
    ARTICLE_NUMBER_KEYS,
    SIZE_KEYS,
    Article,
    article_number_of,
    article_of,
    articles_of,
    price_text,
    product_line_items,
    size_code,
    split_variant,
)
from external_orders.errors import OrderNotExportable


def a_product(key: str, **fields: Any) -> dict[str, Any]:
    item = {
        "id": key,
        "type": "product",
        "label": f"Article {key}",
        "quantity": 1,
        "unitPrice": 1.0,
        "payload": {"productNumber": f"SW-{key}"},
    }
    return {**item, **fields}


def labels(items: list[Any]) -> list[str]:
    return [item["id"] for item in items]


@pytest.mark.parametrize(
    ("number", "parts"),
    [
        ("ART.01", ("ART", "01")),
        ("ART      01", ("ART", "01")),
        ("ART 1", ("ART", "1")),
        ("ART\t07", ("ART", "07")),
        ("ABC 123 1", ("ABC 123", "1")),
        ("SW10001.2", ("SW10001", "2")),
        ("ART-01", ("ART-01", "")),
        ("ART01", ("ART01", "")),
        ("ART.123", ("ART.123", "")),
        ("ART 123", ("ART 123", "")),
        (".01", (".01", "")),
        ("01", ("01", "")),
        ("ART.", ("ART.", "")),
        ("ART.0a", ("ART.0a", "")),
        ("ART.٠١", ("ART.٠١", "")),
    ],
)
def test_split_variant_splits_a_last_group_of_one_or_two_digits(
    number: str, parts: tuple[str, str]
) -> None:
    """Only one or two ASCII digits after a dot or white space are a variant."""
    assert split_variant(number) == parts


@pytest.mark.parametrize("key", ARTICLE_NUMBER_KEYS)
def test_article_number_of_reads_each_known_key(key: str) -> None:
    """Every known payload key can hold the article number."""
    assert article_number_of({key: " ART-7 "}) == "ART-7"


def test_article_number_of_takes_the_first_non_empty_key() -> None:
    """Keys are tried in order; empty, blank and non-text values are skipped."""
    payload = {
        "topmArticleNumber": "   ",
        "TopmArticleNumber": None,
        "articleNumber": ["X"],
        "Artikelnummer": "TOPM-1",
        "productNumber": "SW10001",
    }

    assert article_number_of(payload) == "TOPM-1"


def test_article_number_of_falls_back_to_the_shopware_product_number() -> None:
    """A plain Shopware payload gives its productNumber."""
    assert article_number_of({"productNumber": "SW10001"}) == "SW10001"


def test_article_number_of_writes_a_number_in_digits() -> None:
    """A numeric article number becomes its digits."""
    assert article_number_of({"articleNumber": 4711}) == "4711"


@pytest.mark.parametrize(
    ("size", "code"),
    [
        ("3", "03"),
        ("1", "01"),
        ("01", "01"),
        ("", "00"),
        ("xl", "XL"),
        ("large", "LA"),
        ("m", "0M"),
        ("ß", "SS"),
    ],
)
def test_size_code_is_two_upper_case_characters(size: str, code: str) -> None:
    """Gr is upper case, cut to two characters and padded left with zeros."""
    assert size_code(size) == code


@pytest.mark.parametrize("key", SIZE_KEYS)
def test_the_size_comes_from_each_known_payload_key(key: str) -> None:
    """Every known payload key can hold the size, before the variant."""
    item = a_product("a", payload={"productNumber": "ART.01", key: "xl"})

    assert article_of(item, 1).size == "XL"


def test_the_size_falls_back_to_the_variant_of_the_article_number() -> None:
    """Without a size key, Gr is the variant split off the article number."""
    item = a_product("a", payload={"productNumber": "ART.1", "Gr": "  "})

    assert article_of(item, 1) == Article("ART", "Article a", "01", 1, "1.00")


def test_the_size_is_00_without_size_or_variant() -> None:
    """An article number without variant and no size key give Gr 00."""
    assert article_of(a_product("a"), 1).size == "00"


def test_the_first_size_key_wins() -> None:
    """Gr is read before the other size keys."""
    payload = {"productNumber": "A", "size": "S", "Gr": "1", "option": "M"}

    assert article_of(a_product("a", payload=payload), 1).size == "01"


@pytest.mark.parametrize(
    ("price", "text"),
    [
        (12.5, "12.50"),
        (12, "12.00"),
        (12.345, "12.35"),
        (2.675, "2.68"),
        (0.005, "0.01"),
        ("12.345", "12.35"),
        (" 7 ", "7.00"),
        (-4.255, "-4.26"),
        (-0.001, "0.00"),
        (None, "0.00"),
    ],
)
def test_price_text_has_two_decimals_rounded_half_up(price: object, text: str) -> None:
    """Prices round half up as written; a missing price is 0.00."""
    assert price_text(price) == text


@pytest.mark.parametrize(
    "price", ["abc", "12,50", True, [1], float("nan"), float("inf"), "Infinity", 1e300]
)
def test_what_is_no_price_is_refused(price: object) -> None:
    """Anything that is no price gives None, never a made-up 0.00."""
    assert price_text(price) is None


@pytest.mark.parametrize(("quantity", "menge"), [(3, 3), (2.0, 2), ("4", 4)])
def test_the_quantity_is_a_positive_whole_number(quantity: object, menge: int) -> None:
    """Whole numbers, also written as floats or text, are quantities."""
    assert article_of(a_product("a", quantity=quantity), 1).quantity == menge


@pytest.mark.parametrize("quantity", [0, -1, 1.5, None, "x", True, [], 10**20])
def test_an_invalid_quantity_makes_the_order_not_exportable(quantity: object) -> None:
    """Zero, negative, fractional and non-numeric quantities are refused."""
    with pytest.raises(OrderNotExportable) as raised:
        article_of(a_product("a", label="Shirt", quantity=quantity), 1)

    assert raised.value.problem == "line item 'Shirt' has no valid quantity"


def test_a_product_without_article_number_is_not_exportable() -> None:
    """The internal product UUID is never sent in place of an article number."""
    item = a_product("a", label="Shirt", payload={}, referencedId="f" * 32)

    with pytest.raises(OrderNotExportable) as raised:
        article_of(item, 1)

    assert raised.value.problem == "line item 'Shirt' has no article number"


def test_a_line_item_without_label_is_named_by_its_place() -> None:
    """Without a label, the message names the line item's place."""
    with pytest.raises(OrderNotExportable) as raised:
        article_of(a_product("a", label=None, payload=None), 4)

    assert raised.value.problem == "line item 4 has no article number"


def test_only_product_line_items_are_articles() -> None:
    """Promotions, custom and credit items and containers give no position."""
    items = [
        a_product("a"),
        {"id": "p", "type": "promotion", "label": "-10 %", "quantity": 1},
        {"id": "c", "type": "custom", "label": "Gift wrap", "quantity": 1},
        {"id": "k", "type": "credit", "label": "Credit", "quantity": 1},
        {"id": "b", "type": "container", "label": "Bundle", "quantity": 1},
        a_product("d"),
    ]

    assert labels(product_line_items(items)) == ["a", "d"]


def test_flat_children_follow_their_container_by_position() -> None:
    """Items naming a parent come after it, ordered by position."""
    items = [
        a_product("late", position=3),
        a_product("kid-2", parentId="box", position=2),
        {"id": "box", "type": "container", "position": 1},
        a_product("kid-1", parentId="box", position=1),
        a_product("first", position=0),
    ]

    assert labels(product_line_items(items)) == ["first", "kid-1", "kid-2", "late"]


def test_nested_children_lists_are_included_at_any_depth() -> None:
    """Products inside ``children`` of containers, however deep, are articles."""
    inner = {"id": "inner", "type": "container", "children": [a_product("deep")]}
    outer = {"id": "outer", "type": "container", "children": [a_product("x"), inner]}

    assert labels(product_line_items([outer, a_product("y")])) == ["x", "deep", "y"]


def test_siblings_without_position_keep_their_input_order() -> None:
    """Items without a usable position come after placed ones, in input order."""
    items = [
        a_product("b", position="2"),
        a_product("a", position=5),
        a_product("c", position=True),
    ]

    assert labels(product_line_items(items)) == ["a", "b", "c"]


def test_a_line_item_met_twice_counts_once() -> None:
    """The same id nested and flat gives one position."""
    child = a_product("kid", parentId="box")
    box = {"id": "box", "type": "container", "children": [child]}

    assert labels(product_line_items([box, dict(child)])) == ["kid"]


def test_items_in_a_parent_loop_are_still_exported() -> None:
    """A parentId loop loses no product: such items come last."""
    items = [
        a_product("a", parentId="b"),
        a_product("b", parentId="a"),
        a_product("root"),
    ]

    assert labels(product_line_items(items)) == ["root", "a", "b"]


def test_a_child_naming_itself_as_parent_is_a_root() -> None:
    """An item whose parentId is its own id is treated as having none."""
    assert labels(product_line_items([a_product("a", parentId="a")])) == ["a"]


@pytest.mark.parametrize("line_items", [None, {}, "items", 3, [None, "x", 1, []]])
def test_unusable_line_items_give_no_articles(line_items: object) -> None:
    """A lineItems value that is no list, or holds no objects, has no products."""
    assert product_line_items(line_items) == []


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    """Thousands of nested containers are walked without recursion."""
    item: dict[str, Any] = a_product("bottom")
    for level in range(5000):
        item = {"id": f"c{level}", "type": "container", "children": [item]}

    assert labels(product_line_items([item])) == ["bottom"]


def test_articles_of_reads_the_order_line_items_in_order() -> None:
    """Each product line item of the order becomes one article, in order."""
    order = {"lineItems": [a_product("b", position=2), a_product("a", position=1)]}

    assert [article.reference for article in articles_of(order)] == ["SW-a", "SW-b"]
