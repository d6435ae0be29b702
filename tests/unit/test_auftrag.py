"""The AuftragNeu2 document built from a Shopware order."""

from __future__ import annotations

import base64
import copy
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import pytest

from external_orders.domain.auftrag import (
    DECLARATION,
    MANDATORY_NODES,
    attachment_data,
    build_auftrag_xml,
)
from external_orders.errors import OrderNotExportable

BILLING = {
    "id": "b" * 32,
    "company": "Brandt Bürobedarf GmbH",
    "firstName": "Katrin",
    "lastName": "Brandt",
    "street": "Spaldingstraße 64",
    "zipcode": "20097",
    "city": "Hamburg",
    "country": {"iso": "DE", "name": "Germany"},
}
SHIPPING = {
    "id": "5" * 32,
    "company": "Lager Billbrook",
    "firstName": "Jens",
    "lastName": "Albers",
    "street": "Halskestraße 21",
    "zipcode": "22113",
    "city": "Hamburg-Billbrook",
    "country": {"iso": "DE", "name": "Germany"},
}
ADDRESS_TAGS = ("Firma", "Vorname", "Nachname", "Strasse", "PLZ", "Ort")
ADDRESS_KEYS = ("company", "firstName", "lastName", "street", "zipcode", "city")


def a_line_item(**fields: Any) -> dict[str, Any]:
    item = {
        "id": "1" * 32,
        "type": "product",
        "label": "Ordner A4",
        "quantity": 2,
        "unitPrice": 2.79,
        "position": 1,
        "payload": {"productNumber": "ORD-A4"},
    }
    return {**item, **fields}


def an_order(**fields: Any) -> dict[str, Any]:
    order = {
        "id": "a" * 32,
        "orderNumber": "10001",
        "orderDateTime": "2026-11-30T14:03:12.123+00:00",
        "billingAddressId": BILLING["id"],
        "billingAddress": copy.deepcopy(BILLING),
        "orderCustomer": {"customerNumber": "20017", "email": "einkauf@brandt.de"},
        "deliveries": [{"shippingOrderAddress": copy.deepcopy(SHIPPING)}],
        "lineItems": [a_line_item()],
        "customFields": None,
    }
    return {**order, **fields}


def document(order: dict[str, Any]) -> Element:
    return SafeET.fromstring(build_auftrag_xml(order).encode("utf-8"))


def texts(element: Element | None) -> list[str]:
    assert element is not None
    return [child.text or "" for child in element]


def text(order: dict[str, Any], path: str) -> str:
    found = document(order).find(path)
    assert found is not None, path
    return found.text or ""


def problem_of(order: object) -> str:
    with pytest.raises(OrderNotExportable) as raised:
        build_auftrag_xml(order)  # type: ignore[arg-type]
    return raised.value.problem


def test_the_document_starts_with_a_double_quoted_utf8_declaration() -> None:
    """The first line is the XML declaration SAN6 expects, then the root."""
    xml = build_auftrag_xml(an_order())

    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<AuftragNeu2>')
    assert xml.splitlines()[0] == DECLARATION


def test_the_root_children_come_in_the_agreed_order() -> None:
    """Referenz, Datum, Kunde, Lieferadresse, Positionen, Anlagen, nothing else."""
    root = document(an_order())

    assert root.tag == "AuftragNeu2"
    assert [child.tag for child in root] == [
        "Referenz",
        "Datum",
        "Kunde",
        "Lieferadresse",
        "Positionen",
        "Anlagen",
    ]


def test_every_mandatory_node_is_present() -> None:
    """Each path of MANDATORY_NODES exists in a document."""
    root = document(an_order())

    assert all(root.find(path) is not None for path in MANDATORY_NODES)


def test_referenz_is_the_order_number() -> None:
    """Referenz is the orderNumber, trimmed; a number is written in digits."""
    assert text(an_order(orderNumber=" 10001 "), "Referenz") == "10001"
    assert text(an_order(orderNumber=10002), "Referenz") == "10002"


@pytest.mark.parametrize(
    ("value", "datum"),
    [
        ("2026-11-30T14:03:12.123+00:00", "2026-11-30T14:03:12"),
        ("2026-11-30T14:03:12.999Z", "2026-11-30T14:03:12"),
        ("2026-11-30T14:03:12+01:00", "2026-11-30T13:03:12"),
        ("2026-11-30T21:30:00-05:00", "2026-12-01T02:30:00"),
        ("2026-11-30T14:03:12", "2026-11-30T14:03:12"),
    ],
)
def test_datum_is_the_order_date_time_in_utc(value: str, datum: str) -> None:
    """Datum is orderDateTime converted to UTC, to the second."""
    assert text(an_order(orderDateTime=value), "Datum") == datum


def test_kunde_holds_the_customer_and_the_billing_address() -> None:
    """Kunde is the customer number, billing address fields and e-mail, in order."""
    kunde = document(an_order()).find("Kunde")

    assert kunde is not None
    assert [child.tag for child in kunde] == ["Nummer", *ADDRESS_TAGS, "Email"]
    assert texts(kunde) == [
        "20017",
        "Brandt Bürobedarf GmbH",
        "Katrin",
        "Brandt",
        "Spaldingstraße 64",
        "20097",
        "Hamburg",
        "einkauf@brandt.de",
    ]


def test_the_billing_address_falls_back_to_the_addresses_list() -> None:
    """Without billingAddress, the address named by billingAddressId is used."""
    other = {**BILLING, "id": "c" * 32, "lastName": "Other"}
    order = an_order(billingAddress=None, addresses=[other, copy.deepcopy(BILLING)])

    assert text(order, "Kunde/Nachname") == "Brandt"


def test_an_order_without_billing_address_is_not_exportable() -> None:
    """No billingAddress and no matching entry of addresses is refused."""
    order = an_order(billingAddress=None, addresses=[{**BILLING, "id": "c" * 32}])

    assert problem_of(order) == "no billing address"


def test_a_missing_order_customer_leaves_number_and_email_empty() -> None:
    """A null orderCustomer (a guest without number) still gives a document."""
    order = an_order(orderCustomer=None)

    assert text(order, "Kunde/Nummer") == ""
    assert text(order, "Kunde/Email") == ""


def test_lieferadresse_is_the_first_delivery_address() -> None:
    """Lieferadresse is the shipping address of the first delivery."""
    second = {"shippingOrderAddress": {**SHIPPING, "city": "Elsewhere"}}
    order = an_order()
    order["deliveries"].append(second)

    lieferadresse = document(order).find("Lieferadresse")

    assert lieferadresse is not None
    assert [child.tag for child in lieferadresse] == list(ADDRESS_TAGS)
    assert texts(lieferadresse) == [SHIPPING[key] for key in ADDRESS_KEYS]


@pytest.mark.parametrize(
    ("tag", "key"), list(zip(ADDRESS_TAGS, ADDRESS_KEYS, strict=True))
)
@pytest.mark.parametrize("empty", [None, "", "   ", "\x00", []])
def test_each_empty_delivery_field_falls_back_to_billing(
    tag: str, key: str, empty: object
) -> None:
    """One empty shipping field takes the billing value; the others stay."""
    order = an_order()
    order["deliveries"][0]["shippingOrderAddress"][key] = empty

    lieferadresse = document(order).find("Lieferadresse")

    expected = [BILLING[k] if k == key else SHIPPING[k] for k in ADDRESS_KEYS]
    assert texts(lieferadresse) == expected
    assert text(order, f"Lieferadresse/{tag}") == BILLING[key]


@pytest.mark.parametrize(
    "deliveries",
    [None, [], [None], [{"shippingOrderAddress": None}], "x"],
)
def test_without_delivery_address_the_billing_address_is_used(
    deliveries: object,
) -> None:
    """No usable delivery gives the billing address as Lieferadresse."""
    lieferadresse = document(an_order(deliveries=deliveries)).find("Lieferadresse")

    assert texts(lieferadresse) == [BILLING[key] for key in ADDRESS_KEYS]


def test_the_delivery_address_falls_back_to_the_addresses_list() -> None:
    """A delivery without its address object is resolved by its address id."""
    order = an_order(
        deliveries=[{"shippingOrderAddressId": SHIPPING["id"]}],
        addresses=[copy.deepcopy(BILLING), copy.deepcopy(SHIPPING)],
    )

    assert text(order, "Lieferadresse/Nachname") == "Albers"


def test_a_position_holds_reference_label_size_quantity_and_price() -> None:
    """Each Position has Referenz, Bezeichnung, Gr, Menge and Preis, in order."""
    item = a_line_item(payload={"productNumber": "ORD-A4.02"}, unitPrice=2.5)

    position = document(an_order(lineItems=[item])).find("Positionen/Position")

    assert position is not None
    assert [child.tag for child in position] == [
        "Referenz",
        "Bezeichnung",
        "Gr",
        "Menge",
        "Preis",
    ]
    assert texts(position) == ["ORD-A4", "Ordner A4", "02", "2", "2.50"]


def test_positionen_hold_every_product_nested_ones_included() -> None:
    """Products inside containers are positions; promotions and custom items not."""
    items = [
        {"id": "box", "type": "container", "label": "Set", "position": 1},
        a_line_item(id="k2", label="Kid 2", parentId="box", position=2),
        a_line_item(id="k1", label="Kid 1", parentId="box", position=1),
        {"id": "promo", "type": "promotion", "label": "-10 %", "position": 2},
        {"id": "wrap", "type": "custom", "label": "Wrap", "position": 3},
        a_line_item(id="solo", label="Solo", position=4),
    ]

    labels = [
        position.findtext("Bezeichnung")
        for position in document(an_order(lineItems=items)).iter("Position")
    ]

    assert labels == ["Kid 1", "Kid 2", "Solo"]


def test_an_order_without_order_number_is_not_exportable() -> None:
    """A missing or blank orderNumber is named as missing."""
    assert problem_of(an_order(orderNumber=None)) == "no order number"
    assert problem_of(an_order(orderNumber="  ")) == "no order number"


def test_an_order_without_product_line_item_is_not_exportable() -> None:
    """An order with only non-product line items is named as such."""
    items = [{"id": "p", "type": "promotion", "label": "-10 %"}]

    assert problem_of(an_order(lineItems=items)) == "no product line item"
    assert problem_of(an_order(lineItems=[])) == "no product line item"


def test_an_order_without_order_date_time_is_not_exportable() -> None:
    """A missing or unparseable orderDateTime is named as missing."""
    problem = "no order date (orderDateTime)"

    assert problem_of(an_order(orderDateTime=None)) == problem
    assert problem_of(an_order(orderDateTime="30.11.2026")) == problem


def test_a_product_without_article_number_makes_the_order_not_exportable() -> None:
    """A product line item without article number names its label."""
    item = a_line_item(payload={"options": []}, referencedId="f" * 32)

    assert problem_of(an_order(lineItems=[item])) == (
        "line item 'Ordner A4' has no article number"
    )


@pytest.mark.parametrize("order", [None, [], "order", 3])
def test_an_order_that_is_no_object_is_not_exportable(order: object) -> None:
    """Anything but a JSON object is refused with OrderNotExportable."""
    assert problem_of(order) == "the order is not a JSON object"


def test_anlagen_is_present_without_attachments() -> None:
    """An order without attachments has an empty Anlagen element."""
    anlagen = document(an_order()).find("Anlagen")

    assert anlagen is not None
    assert list(anlagen) == []


def test_each_attachment_is_one_anlage_with_name_and_data() -> None:
    """Attachments and their names pair by index; plain text is base64-encoded."""
    fields = {
        "externalOrderAttachments": ["Bitte an Tor 3", "aGVsbG8="],
        "externalOrderAttachmentNames": ["hinweis.txt", "hello.txt"],
    }

    anlagen = document(an_order(customFields=fields)).findall("Anlagen/Anlage")

    assert [texts(anlage) for anlage in anlagen] == [
        ["hinweis.txt", base64.b64encode(b"Bitte an Tor 3").decode()],
        ["hello.txt", "aGVsbG8="],
    ]


def test_attachment_names_default_to_their_number() -> None:
    """A missing or empty name is attachment-N.txt, N counting from 1."""
    fields = {
        "externalOrderAttachments": ["one", "two", "three"],
        "externalOrderAttachmentNames": ["", None],
    }

    anlagen = document(an_order(customFields=fields)).findall("Anlagen/Anlage")

    assert [anlage.findtext("Dateiname") for anlage in anlagen] == [
        "attachment-1.txt",
        "attachment-2.txt",
        "attachment-3.txt",
    ]


def test_a_single_attachment_string_is_one_attachment() -> None:
    """externalOrderAttachments given as one string is one attachment."""
    fields = {
        "externalOrderAttachments": "Hinweis",
        "externalOrderAttachmentNames": "hinweis.txt",
    }

    anlagen = document(an_order(customFields=fields)).findall("Anlagen/Anlage")

    assert [texts(anlage) for anlage in anlagen] == [["hinweis.txt", "SGlud2Vpcw=="]]


def test_unusable_attachment_entries_are_skipped_but_counted() -> None:
    """Null, empty and non-text entries give no Anlage; numbering keeps counting."""
    fields = {"externalOrderAttachments": [None, "", {"a": 1}, "last"]}

    anlagen = document(an_order(customFields=fields)).findall("Anlagen/Anlage")

    assert [anlage.findtext("Dateiname") for anlage in anlagen] == ["attachment-4.txt"]


@pytest.mark.parametrize(
    ("content", "data"),
    [
        ("aGVsbG8gd29ybGQ=", "aGVsbG8gd29ybGQ="),
        ("aGVs bG8g\nd29y bGQ=\r\n", "aGVsbG8gd29ybGQ="),
        ("hello world", "aGVsbG8gd29ybGQ="),
        ("abc", "YWJj"),
        ("aGVsbG8", "YUdWc2JHOA=="),
        ("====", "PT09PQ=="),
        ("Grüße", "R3LDvMOfZQ=="),
        (42, "NDI="),
        (None, None),
        ("  \n", None),
        (True, None),
        (["aGVsbG8="], None),
    ],
)
def test_attachment_data_keeps_base64_and_encodes_anything_else(
    content: object, data: str | None
) -> None:
    """Valid base64 is kept without white space; other text is encoded as UTF-8."""
    assert attachment_data(content) == data


def test_texts_are_trimmed_and_stripped_of_forbidden_characters() -> None:
    """Surrounding white space and characters XML 1.0 forbids do not reach SAN6."""
    billing = {**BILLING, "firstName": "  Ka\x00trin\x1b ", "lastName": "\ufffeBrandt"}

    kunde = document(an_order(billingAddress=billing)).find("Kunde")

    assert kunde is not None
    assert kunde.findtext("Vorname") == "Katrin"
    assert kunde.findtext("Nachname") == "Brandt"


def test_line_breaks_inside_a_text_survive_exactly() -> None:
    """Carriage returns and line feeds inside a label read back unchanged."""
    item = a_line_item(label="Zeile 1\r\nZeile 2\rZeile 3\n\tEnde")

    assert text(an_order(lineItems=[item]), "Positionen/Position/Bezeichnung") == (
        "Zeile 1\r\nZeile 2\rZeile 3\n\tEnde"
    )


def test_building_does_not_change_the_order() -> None:
    """The order given is left exactly as it was."""
    order = an_order()
    before = copy.deepcopy(order)

    build_auftrag_xml(order)

    assert order == before


@pytest.mark.parametrize(("gr", "code"), [("01", "01"), ("1", "01"), ("", "00")])
def test_runbook_gr_is_always_two_characters(gr: str, code: str) -> None:
    """Runbook: Gr 01 and 1 both give 01, an empty Gr gives 00."""
    item = a_line_item(payload={"productNumber": "ART", "Gr": gr})

    assert text(an_order(lineItems=[item]), "Positionen/Position/Gr") == code


@pytest.mark.parametrize("number", ["ART.01", "ART      01"])
def test_runbook_variant_suffix_is_split_off(number: str) -> None:
    """Runbook: ART.01 and ART      01 give Referenz ART and Gr 01."""
    item = a_line_item(payload={"topmArticleNumber": number})

    position = document(an_order(lineItems=[item])).find("Positionen/Position")

    assert position is not None
    assert (position.findtext("Referenz"), position.findtext("Gr")) == ("ART", "01")


def test_runbook_large_attachment_is_accepted() -> None:
    """Runbook: an attachment of about 275 kB goes through whole."""
    content = bytes(range(256)) * 1075
    encoded = base64.b64encode(content).decode("ascii")
    fields = {"externalOrderAttachments": [encoded]}

    datei = text(an_order(customFields=fields), "Anlagen/Anlage/Datei")

    assert len(content) == 275_200
    assert base64.b64decode(datei) == content


def test_runbook_accents_apostrophes_and_ampersands_survive() -> None:
    """Runbook: accents, apostrophes and & read back exactly as sent."""
    billing = {
        **BILLING,
        "company": "L'Atelier & Fils <SARL>",
        "firstName": "Zoë",
        "lastName": "Lefèvre-d'Ornano",
        "street": "12, rue de l'Église",
        "city": "Saint-Étienne",
    }
    item = a_line_item(label='Tasse „Morgenröte“ & "Untertasse"')
    order = an_order(billingAddress=billing, lineItems=[item], deliveries=[])

    root = document(order)

    assert root.findtext("Kunde/Firma") == "L'Atelier & Fils <SARL>"
    assert root.findtext("Lieferadresse/Nachname") == "Lefèvre-d'Ornano"
    assert root.findtext("Kunde/Strasse") == "12, rue de l'Église"
    assert root.findtext("Kunde/Ort") == "Saint-Étienne"
    assert root.findtext("Positionen/Position/Bezeichnung") == (
        'Tasse „Morgenröte“ & "Untertasse"'
    )
