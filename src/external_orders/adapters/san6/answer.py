"""What SAN6 answered to a write request, read from its XML body.

SAN6 answers with a small XML document carrying a code and a message, e.g.
``<response><response_code>0</response_code>...</response>``. The element
names vary between SAN6 versions, so several are looked for, nested or not.
Code ``0`` means the order was accepted.

Parsing is hardened: DTDs, entity declarations and external references are
refused (billion laughs, XXE), and such a body counts as unreadable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

CODE_NAMES = ("response_code", "returnCode", "code", "statusCode", "ret")
MESSAGE_NAMES = ("response_message", "message", "returnMessage", "statusMessage", "msg")
UNREADABLE = "unreadable SAN6 answer"

_ZERO = re.compile(r"[+-]?0+", re.ASCII)
_SNIPPET_LENGTH = 120
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True)
class San6Answer:
    """One answer of SAN6 to a write request.

    ``code`` is None when the body could not be read as a SAN6 answer; then
    ``message`` says why. ``body`` is the answer as text, for the record.
    """

    code: str | None
    message: str | None
    body: str
    http_status: int
    duration_seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        """True when the code is the integer 0 ("0", "00", " 0 ") in a 2xx.

        A code 0 in an HTTP error page is not trusted as an acceptance.
        """
        if self.code is None or not 200 <= self.http_status < 300:
            return False
        return _ZERO.fullmatch(self.code.strip()) is not None


def parse_answer(body: bytes | str, http_status: int) -> San6Answer:
    """The answer in ``body``; never raises, whatever the body holds.

    The code is the text of the first element named like one of
    ``CODE_NAMES`` that holds only text: names are tried in that order, and
    for each name the elements in document order. The message likewise with
    ``MESSAGE_NAMES``. A body that is empty, not XML, declares a DTD or
    entities, or has no code gives code None and a short description.
    """
    text = _as_text(body)
    root, problem = _parse(body)
    if root is None:
        return San6Answer(None, f"{UNREADABLE}: {problem}", text, http_status)

    code = _find_scalar(root, CODE_NAMES)
    message = _find_scalar(root, MESSAGE_NAMES)
    if code is None:
        return San6Answer(None, _no_code(message), text, http_status)
    return San6Answer(code, message, text, http_status)


def _as_text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        # Older SAN6 installations answer in ISO-8859-1.
        return body.decode("latin-1")


def _parse(body: bytes | str) -> tuple[Element | None, str]:
    """The root element, or None and what is wrong with the body."""
    data = body.lstrip(_WHITESPACE) if isinstance(body, bytes) else body.lstrip()
    if not data:
        return None, "empty body"

    try:
        return fromstring(data, forbid_dtd=True), ""
    except DefusedXmlException:
        return None, "DTDs and entity declarations are not accepted"
    except (ParseError, LookupError, ValueError) as error:
        return None, f"not XML ({error}), starts with {_snippet(data)!r}"


def _snippet(data: bytes | str) -> str:
    text = _as_text(data[: _SNIPPET_LENGTH * 4])
    text = " ".join(text.split())
    if len(text) <= _SNIPPET_LENGTH:
        return text
    return text[: _SNIPPET_LENGTH - 3] + "..."


def _find_scalar(root: Element, names: tuple[str, ...]) -> str | None:
    for name in names:
        for element in root.iter():
            if _local_name(element) != name or len(element) > 0:
                continue
            text = (element.text or "").strip()
            if text:
                return text
    return None


def _local_name(element: Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _no_code(message: str | None) -> str:
    if message is None:
        return f"{UNREADABLE}: no code"
    shown = message if len(message) <= 200 else message[:197] + "..."
    return f"{UNREADABLE}: no code, message {shown!r}"
