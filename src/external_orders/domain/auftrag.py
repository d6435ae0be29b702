"""The AuftragNeu2 document: one Shopware order as SAN6 receives it.

``build_auftrag_xml`` maps an order entity of the Admin API (see
``external_orders.domain.order``) to the XML of SAN6's ``API-AUFTRAGNEU2``
function. The mapping is total: any JSON-like order either gives a
well-formed document or raises ``OrderNotExportable`` saying what is missing,
so an order whose data can never be valid is not retried.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from external_orders.domain.article import Article, articles_of
from external_orders.domain.order import (
    list_of,
    mapping_of,
    order_number_of,
    text_of,
    timestamp_of,
)
from external_orders.errors import OrderNotExportable

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

MANDATORY_NODES = (
    "Referenz",
    "Datum",
    "Kunde",
    "Lieferadresse",
    "Positionen/Position",
    "Anlagen",
)
"""Element paths, relative to the root, that every valid document has.

``Referenz`` and ``Datum`` are never empty, and neither is ``Referenz`` of a
``Position``; ``Anlagen`` may be empty.
"""

ADDRESS_FIELDS = (
    ("Firma", "company"),
    ("Vorname", "firstName"),
    ("Nachname", "lastName"),
    ("Strasse", "street"),
    ("PLZ", "zipcode"),
    ("Ort", "city"),
)
"""Address elements, in document order, and the Shopware field each is read from."""

ATTACHMENTS_FIELD = "externalOrderAttachments"
ATTACHMENT_NAMES_FIELD = "externalOrderAttachmentNames"

_T = TypeVar("_T")


def build_auftrag_xml(order: Mapping[str, Any]) -> str:
    """The AuftragNeu2 document of ``order``, declaration included.

    Texts are trimmed and stripped of characters XML 1.0 forbids; markup
    characters are escaped and carriage returns written as ``&#13;`` so that
    every text reads back exactly. Raises ``OrderNotExportable``, and nothing
    else, when the order lacks its number, date-time, billing address or
    product line items, or a product line item lacks its article number or a
    positive whole quantity.
    """
    root = _document(order)

    indent(root)
    body = tostring(root, encoding="unicode").replace("\r", "&#13;")
    return f"{DECLARATION}\n{body}\n"


def _document(order: object) -> Element:
    if not isinstance(order, Mapping):
        raise OrderNotExportable("the order is not a JSON object")

    number = _required(order_number_of(order), "no order number")
    ordered_at = _required(
        timestamp_of(order.get("orderDateTime")), "no order date (orderDateTime)"
    )
    billing = _required(billing_address_of(order), "no billing address")
    articles = _required(articles_of(order), "no product line item")

    root = Element("AuftragNeu2")
    _add_text(root, "Referenz", number)
    _add_text(root, "Datum", _datum(ordered_at))
    root.append(_customer(order, billing))
    root.append(_delivery_address(shipping_address_of(order), billing))
    root.append(_positions(articles))
    root.append(_attachments(order.get("customFields")))
    return root


def billing_address_of(order: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``billingAddress``, else the entry of ``addresses`` named by its id."""
    address = order.get("billingAddress")
    if isinstance(address, Mapping):
        return address
    return _address_by_id(order, order.get("billingAddressId"))


def shipping_address_of(order: Mapping[str, Any]) -> Mapping[str, Any]:
    """The first delivery's address; empty when the order has none."""
    deliveries = list_of(order.get("deliveries"))
    delivery = next((item for item in deliveries if isinstance(item, Mapping)), {})
    address = delivery.get("shippingOrderAddress")
    if isinstance(address, Mapping):
        return address
    return _address_by_id(order, delivery.get("shippingOrderAddressId")) or {}


def attachment_data(content: object) -> str | None:
    """The ``Datei`` text of one attachment; None for an empty or unusable one.

    A value that is already base64 (once white space is removed) is kept
    without its white space; any other text, or a number, is encoded from its
    UTF-8 bytes, a lone surrogate becoming ``?``. Limit: a short plain word
    that happens to be valid base64, such as ``Test``, is taken as base64.
    """
    if isinstance(content, int | float) and not isinstance(content, bool):
        content = text_of(content)
    if not isinstance(content, str) or not content.strip():
        return None

    compact = "".join(content.split())
    if _is_base64(compact):
        return compact
    encoded = content.encode("utf-8", errors="replace")
    return base64.b64encode(encoded).decode("ascii")


def _customer(order: Mapping[str, Any], billing: Mapping[str, Any]) -> Element:
    customer = mapping_of(order.get("orderCustomer"))
    element = Element("Kunde")

    _add_text(element, "Nummer", text_of(customer.get("customerNumber")))
    for tag, field in ADDRESS_FIELDS:
        _add_text(element, tag, text_of(billing.get(field)))
    _add_text(element, "Email", text_of(customer.get("email")))
    return element


def _delivery_address(
    shipping: Mapping[str, Any], billing: Mapping[str, Any]
) -> Element:
    element = Element("Lieferadresse")

    for tag, field in ADDRESS_FIELDS:
        text = text_of(shipping.get(field)) or text_of(billing.get(field))
        _add_text(element, tag, text)
    return element


def _positions(articles: list[Article]) -> Element:
    element = Element("Positionen")

    for article in articles:
        position = SubElement(element, "Position")
        _add_text(position, "Referenz", article.reference)
        _add_text(position, "Bezeichnung", article.label)
        _add_text(position, "Gr", article.size)
        _add_text(position, "Menge", str(article.quantity))
        _add_text(position, "Preis", article.price)
    return element


def _attachments(custom_fields: object) -> Element:
    fields = mapping_of(custom_fields)
    contents = _list_or_single(fields.get(ATTACHMENTS_FIELD))
    names = _list_or_single(fields.get(ATTACHMENT_NAMES_FIELD))

    element = Element("Anlagen")
    for index, content in enumerate(contents):
        data = attachment_data(content)
        if data is None:
            continue
        attachment = SubElement(element, "Anlage")
        _add_text(attachment, "Dateiname", _attachment_name(names, index))
        _add_text(attachment, "Datei", data)
    return element


def _attachment_name(names: list[object], index: int) -> str:
    name = text_of(names[index]) if index < len(names) else ""
    return name or f"attachment-{index + 1}.txt"


def _is_base64(text: str) -> bool:
    if not text or len(text) % 4:
        return False

    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _datum(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _address_by_id(
    order: Mapping[str, Any], address_id: object
) -> Mapping[str, Any] | None:
    if not isinstance(address_id, str) or not address_id:
        return None

    for address in list_of(order.get("addresses")):
        if isinstance(address, Mapping) and address.get("id") == address_id:
            return address
    return None


def _add_text(parent: Element, tag: str, text: str) -> None:
    child = SubElement(parent, tag)
    if text:
        child.text = text


def _required(value: _T | None, problem: str) -> _T:
    """``value``; raises ``OrderNotExportable`` if it is None or empty."""
    if not value:
        raise OrderNotExportable(problem)
    return value


def _list_or_single(value: object) -> list[object]:
    return [value] if isinstance(value, str) else list_of(value)
