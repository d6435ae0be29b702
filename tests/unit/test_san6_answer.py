"""Reading SAN6's XML answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from external_orders.adapters.san6.answer import (
    CODE_NAMES,
    MESSAGE_NAMES,
    San6Answer,
    parse_answer,
)

OK = (
    '<?xml version="1.0" encoding="UTF-8"?><response>'
    "<response_code>0</response_code><response_message>OK</response_message>"
    "</response>"
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<response><response_code>&lol3;</response_code></response>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<response><response_code>0</response_code><msg>&xxe;</msg></response>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE response SYSTEM "http://127.0.0.1:9/evil.dtd">
<response><response_code>0</response_code></response>"""


def test_reads_code_and_message_of_a_standard_answer() -> None:
    """The usual SAN6 answer gives its code, message, body and HTTP status."""
    answer = parse_answer(OK.encode(), 200)

    assert answer == San6Answer("0", "OK", OK, 200)
    assert answer.accepted


@pytest.mark.parametrize("name", CODE_NAMES)
def test_finds_the_code_under_each_known_name(name: str) -> None:
    """Each of the known code element names is understood."""
    answer = parse_answer(f"<r><{name}>7</{name}></r>", 200)

    assert answer.code == "7"


@pytest.mark.parametrize("name", MESSAGE_NAMES)
def test_finds_the_message_under_each_known_name(name: str) -> None:
    """Each of the known message element names is understood."""
    answer = parse_answer(f"<r><ret>1</ret><{name}>kaputt</{name}></r>", 200)

    assert answer.message == "kaputt"


def test_finds_nested_elements() -> None:
    """Code and message are found however deep they are nested."""
    body = "<a><b><c><returnCode> 12 </returnCode></c><d><msg>x</msg></d></b></a>"

    answer = parse_answer(body, 200)

    assert (answer.code, answer.message) == ("12", "x")


def test_the_first_name_in_priority_order_wins_over_document_order() -> None:
    """A later response_code beats an earlier ret; messages likewise."""
    body = (
        "<r><ret>9</ret><msg>late</msg><deep><response_code>4</response_code>"
        "<response_message>first</response_message></deep></r>"
    )

    answer = parse_answer(body, 200)

    assert (answer.code, answer.message) == ("4", "first")


def test_within_one_name_the_first_element_depth_first_wins() -> None:
    """Of two elements with the same name the one earlier in the document wins."""
    body = "<r><x><y><code>1</code></y></x><code>2</code></r>"

    assert parse_answer(body, 200).code == "1"


def test_skips_elements_without_scalar_text() -> None:
    """Empty elements and elements with children are not a code."""
    body = "<r><code>  </code><code><inner>5</inner></code><code>3</code></r>"

    assert parse_answer(body, 200).code == "3"


def test_a_code_without_scalar_text_falls_back_to_the_next_name() -> None:
    """When the preferred name holds no text, the next name is used."""
    body = "<r><response_code/><statusCode>8</statusCode></r>"

    assert parse_answer(body, 200).code == "8"


def test_namespaced_elements_are_matched_by_local_name() -> None:
    """A namespace prefix does not hide the code."""
    body = '<s:r xmlns:s="urn:san6"><s:response_code>0</s:response_code></s:r>'

    assert parse_answer(body, 200).accepted


def test_reads_latin1_declared_bytes() -> None:
    """An ISO-8859-1 answer keeps its umlauts in message and body."""
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><r><ret>1</ret><msg>Größe</msg></r>'
    )

    answer = parse_answer(text.encode("latin-1"), 200)

    assert answer.message == "Größe"
    assert "Größe" in answer.body


@pytest.mark.parametrize("code", ["0", "00", " 0 ", "\n0\t", "+0"])
def test_integer_zero_is_accepted(code: str) -> None:
    """Every spelling of the integer 0 means accepted."""
    assert San6Answer(code, None, "", 200).accepted


@pytest.mark.parametrize("code", [None, "", "1", "0.0", "O", "0x0", "E0", "٠", "0 0"])
def test_anything_else_is_not_accepted(code: str | None) -> None:
    """Other codes, a missing code and non-ASCII digits are not acceptance."""
    assert not San6Answer(code, None, "", 200).accepted


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty body"),
        ("  \n ", "empty body"),
        (b"<html><body>Bad Gateway", "not XML"),
        ("OK", "not XML"),
        (b'<?xml version="1.0" encoding="bogus"?><r/>', "not XML"),
        ("<r><other>1</other></r>", "no code"),
    ],
)
def test_unreadable_bodies_give_no_code_and_a_description(
    body: bytes | str, problem: str
) -> None:
    """A body without a readable code says why, instead of raising."""
    answer = parse_answer(body, 400)

    assert answer.code is None
    assert answer.message is not None
    assert answer.message.startswith(f"unreadable SAN6 answer: {problem}")
    assert answer.http_status == 400
    assert not answer.accepted


def test_a_message_without_code_is_mentioned_in_the_description() -> None:
    """A 4xx answer with only a message keeps that message in the description."""
    answer = parse_answer("<error><message>bad request</message></error>", 400)

    assert answer.message == "unreadable SAN6 answer: no code, message 'bad request'"


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_dtds_and_entities_are_refused(body: str) -> None:
    """Entity expansion and external references make the answer unreadable."""
    answer = parse_answer(body.encode(), 200)

    assert answer.code is None
    assert answer.message == (
        "unreadable SAN6 answer: DTDs and entity declarations are not accepted"
    )


def test_the_description_echoes_at_most_a_short_snippet() -> None:
    """A long non-XML body is not copied into the message."""
    answer = parse_answer("x" * 10_000, 502)

    assert answer.message is not None
    assert len(answer.message) < 300
    assert len(answer.body) == 10_000


@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_never_raises(body: bytes | str) -> None:
    """Whatever the body, parsing gives an answer."""
    answer = parse_answer(body, 200)

    assert answer.code is None or answer.code.strip()


def test_code_zero_in_an_http_error_is_not_an_acceptance() -> None:
    """A 404 page that happens to carry code 0 is not taken as sent."""
    body = "<response><response_code>0</response_code></response>"

    assert parse_answer(body, 200).accepted
    assert not parse_answer(body, 404).accepted
