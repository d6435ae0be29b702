"""Properties of build_auftrag_xml over arbitrary text and arbitrary JSON."""

from __future__ import annotations

import base64
import copy
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from external_orders.domain.article import size_code, split_variant
from external_orders.domain.auftrag import MANDATORY_NODES, build_auftrag_xml
from external_orders.errors import OrderNotExportable

TRICKY = ["\x00", "\x08", "\x0b", "\x1f", "\r", "\n", "\t", " ", "\ud800", "\udfff"]
TRICKY += ["\ufffe", "\uffff", "&", "<", ">", "]]>", "'", '"', "é", "\u2028", "\x85"]
ANY_TEXT = st.lists(
    st.characters(exclude_categories=()) | st.sampled_from(TRICKY), max_size=30
).map("".join)
"""Text of any code point, lone surrogates and control characters included."""
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | ANY_TEXT
    | st.sampled_from(["", "0", "1", "ART.01", "2026-11-30T14:03:12Z", "a" * 32]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4)
    ),
    max_leaves=10,
)
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)

Path = tuple[str | int, ...]

ADDRESS = {
    "company": "Firma GmbH",
    "firstName": "Vorname",
    "lastName": "Nachname",
    "street": "Strasse 1",
    "zipcode": "12345",
    "city": "Ort",
}
ADDRESS_TAGS = {
    "company": "Firma",
    "firstName": "Vorname",
    "lastName": "Nachname",
    "street": "Strasse",
    "zipcode": "PLZ",
    "city": "Ort",
}

TEXT_FIELDS: list[tuple[Path, str, str]] = [
    (("orderCustomer", "customerNumber"), "Kunde/Nummer", ""),
    (("orderCustomer", "email"), "Kunde/Email", ""),
    (("lineItems", 0, "label"), "Positionen/Position/Bezeichnung", ""),
    *[
        (("billingAddress", key), f"Kunde/{tag}", "")
        for key, tag in ADDRESS_TAGS.items()
    ],
    *[
        (
            ("deliveries", 0, "shippingOrderAddress", key),
            f"Lieferadresse/{tag}",
            ADDRESS[key],
        )
        for key, tag in ADDRESS_TAGS.items()
    ],
    (
        ("customFields", "externalOrderAttachmentNames", 0),
        "Anlagen/Anlage/Dateiname",
        "attachment-1.txt",
    ),
]
"""Text fields, the node each is read back from, and what shows when empty."""
JSON_FIELDS: list[Path] = [
    (),
    ("id",),
    ("orderNumber",),
    ("orderDateTime",),
    ("billingAddress",),
    ("billingAddress", "firstName"),
    ("billingAddress", "zipcode"),
    ("billingAddressId",),
    ("addresses",),
    ("orderCustomer",),
    ("orderCustomer", "email"),
    ("orderCustomer", "customerNumber"),
    ("deliveries",),
    ("deliveries", 0),
    ("deliveries", 0, "shippingOrderAddress"),
    ("deliveries", 0, "shippingOrderAddress", "city"),
    ("deliveries", 0, "shippingOrderAddressId"),
    ("lineItems",),
    ("lineItems", 0),
    ("lineItems", 0, "id"),
    ("lineItems", 0, "type"),
    ("lineItems", 0, "label"),
    ("lineItems", 0, "quantity"),
    ("lineItems", 0, "unitPrice"),
    ("lineItems", 0, "position"),
    ("lineItems", 0, "parentId"),
    ("lineItems", 0, "children"),
    ("lineItems", 0, "payload"),
    ("lineItems", 0, "payload", "productNumber"),
    ("lineItems", 0, "payload", "topmArticleNumber"),
    ("lineItems", 0, "payload", "Gr"),
    ("lineItems", 1),
    ("lineItems", 1, "parentId"),
    ("customFields",),
    ("customFields", "externalOrderAttachments"),
    ("customFields", "externalOrderAttachments", 0),
    ("customFields", "externalOrderAttachmentNames"),
    ("customFields", "externalOrderAttachmentNames", 0),
]


def base_order() -> dict[str, Any]:
    return {
        "id": "a" * 32,
        "orderNumber": "10001",
        "orderDateTime": "2026-11-30T14:03:12.123+00:00",
        "billingAddressId": "b" * 32,
        "billingAddress": {"id": "b" * 32, **ADDRESS},
        "addresses": [{"id": "b" * 32, **ADDRESS}],
        "orderCustomer": {"customerNumber": "20017", "email": "a@example.org"},
        "deliveries": [
            {"shippingOrderAddressId": "c" * 32, "shippingOrderAddress": {**ADDRESS}}
        ],
        "lineItems": [
            {
                "id": "1" * 32,
                "type": "product",
                "label": "Ordner",
                "quantity": 1,
                "unitPrice": 2.5,
                "position": 1,
                "payload": {"productNumber": "ORD-A4"},
            },
            {
                "id": "2" * 32,
                "type": "product",
                "label": "Kind",
                "quantity": 1,
                "unitPrice": 1,
                "parentId": "1" * 32,
                "payload": {"productNumber": "KIND"},
            },
        ],
        "customFields": {
            "externalOrderAttachments": ["Hinweis"],
            "externalOrderAttachmentNames": ["hinweis.txt"],
        },
    }


def with_value(path: Path, value: object) -> Any:
    """A base order with ``value`` at ``path``; the whole order for ``()``."""
    if not path:
        return value
    order = base_order()
    target: Any = order
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return order


def xml_clean(text: str) -> str:
    """The oracle: text without what XML 1.0 forbids or discourages (C0 and
    C1 controls, DEL), then trimmed."""
    return "".join(char for char in text if _allowed(char)).strip()


def _allowed(char: str) -> bool:
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    )


def parsed(order: Any) -> Any:
    return SafeET.fromstring(build_auftrag_xml(order).encode("utf-8"))


def found_text(order: Any, node: str) -> str:
    element = parsed(order).find(node)
    assert element is not None, node
    return str(element.text or "")


@PROPERTY_SETTINGS
@given(field=st.sampled_from(TEXT_FIELDS), value=ANY_TEXT)
def test_any_text_reads_back_trimmed_without_forbidden_characters(
    field: tuple[Path, str, str], value: str
) -> None:
    """Any text in a text field reads back cleaned and trimmed, else its fallback."""
    path, node, fallback = field

    assert found_text(with_value(path, value), node) == (xml_clean(value) or fallback)


@PROPERTY_SETTINGS
@given(value=ANY_TEXT)
def test_any_order_number_reads_back_or_is_refused(value: str) -> None:
    """An order number reads back cleaned; one with nothing left is refused."""
    order = with_value(("orderNumber",), value)

    if not xml_clean(value):
        with pytest.raises(OrderNotExportable):
            build_auftrag_xml(order)
        return
    assert found_text(order, "Referenz") == xml_clean(value)


@PROPERTY_SETTINGS
@given(value=ANY_TEXT)
def test_any_article_number_reads_back_without_its_variant(value: str) -> None:
    """An article number reads back cleaned, less a split-off variant."""
    order = with_value(("lineItems", 0, "payload", "productNumber"), value)
    reference, variant = split_variant(xml_clean(value))

    if not reference:
        with pytest.raises(OrderNotExportable):
            build_auftrag_xml(order)
        return
    assert found_text(order, "Positionen/Position/Referenz") == reference
    assert found_text(order, "Positionen/Position/Gr") == size_code(variant)


@PROPERTY_SETTINGS
@given(value=ANY_TEXT)
def test_any_size_gives_two_characters(value: str) -> None:
    """Any Gr text gives the two-character code of its cleaned text."""
    gr = found_text(
        with_value(("lineItems", 0, "payload", "Gr"), value), "Positionen/Position/Gr"
    )

    assert gr == size_code(xml_clean(value))
    assert len(gr) == 2


@PROPERTY_SETTINGS
@given(value=ANY_TEXT)
def test_any_attachment_text_reads_back_as_base64(value: str) -> None:
    """Attachment text is kept if base64, else read back from its UTF-8 bytes."""
    order = with_value(("customFields", "externalOrderAttachments", 0), value)
    datei = parsed(order).findtext("Anlagen/Anlage/Datei")

    if not value.strip():
        assert datei is None
        return
    assert datei is not None
    compact = "".join(value.split())
    decoded = base64.b64decode(datei, validate=True)
    assert datei == compact or decoded == value.encode("utf-8", errors="replace")


@PROPERTY_SETTINGS
@given(path=st.sampled_from(JSON_FIELDS), value=JSON_VALUES)
def test_any_json_value_in_any_field_gives_xml_or_order_not_exportable(
    path: Path, value: object
) -> None:
    """Whatever JSON sits in a field, the result is a document or a refusal."""
    try:
        root = parsed(with_value(path, value))
    except OrderNotExportable:
        return

    assert all(root.find(node) is not None for node in MANDATORY_NODES)


@PROPERTY_SETTINGS
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(JSON_FIELDS[1:]), JSON_VALUES), max_size=6
    )
)
def test_many_json_values_at_once_give_xml_or_order_not_exportable(
    changes: list[tuple[Path, object]],
) -> None:
    """Several fields replaced together still give a document or a refusal."""
    order = base_order()
    for path, value in changes:
        _put(order, path, value)

    try:
        root = parsed(order)
    except OrderNotExportable:
        return

    assert all(root.find(node) is not None for node in MANDATORY_NODES)


def _put(order: dict[str, Any], path: Path, value: object) -> None:
    """Sets ``value`` at ``path`` if the way there still exists."""
    *way, last = path
    target: Any = order
    for step in way:
        if not _has(target, step):
            return
        target = target[step]

    if _has(target, last) or (isinstance(target, dict) and isinstance(last, str)):
        target[last] = copy.deepcopy(value)


def _has(container: Any, step: str | int) -> bool:
    if isinstance(container, dict):
        return step in container
    if isinstance(container, list) and isinstance(step, int):
        return step < len(container)
    return False
