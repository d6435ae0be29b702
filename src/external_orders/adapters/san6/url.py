"""The URL of a SAN6 write request, and keeping its secret out of text.

SAN6 takes everything in the query string, the API secret
(``authentifizierung``) included, so any text that may hold a request URL
goes through ``redact`` before it is shown or logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

from external_orders.domain.san6_config import MASK, San6Config

NO_SESSION = "nosession"
STANDARD_PARAMS = (
    "ssid",
    "company",
    "product",
    "mandant",
    "sys",
    "authentifizierung",
    "funktion",
)

_PERCENT_TRIPLET = re.compile(r"%([0-9A-F])([0-9A-F])")


def build_request_url(
    config: San6Config, extra: Mapping[str, str] | None = None
) -> str:
    """The base URL with the SAN6 query parameters appended.

    The base URL's path and query are kept, and so is its own ``ssid``;
    without one, ``ssid=nosession`` is sent. Then come ``company``,
    ``product``, ``mandant``, ``sys``, ``authentifizierung``, ``funktion``
    and the ``extra`` parameters, in that order, each value percent-encoded.
    A parameter the base URL also carries is taken from the config (or
    ``extra``) only, never sent twice. The fragment is dropped. ``extra``
    may not name a standard parameter (ValueError).
    """
    clash = sorted(set(extra or {}) & set(STANDARD_PARAMS))
    if clash:
        raise ValueError("extra SAN6 parameters clash: " + ", ".join(clash))

    parts = urlsplit(config.base_url)
    params = _request_params(config, extra or {})
    kept, has_session = _kept_query(parts.query, set(params) | {"ssid"})
    if not has_session:
        params = {"ssid": NO_SESSION, **params}

    query = "&".join([*kept, *(_pair(name, value) for name, value in params.items())])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _request_params(config: San6Config, extra: Mapping[str, str]) -> dict[str, str]:
    params = {
        "company": config.company,
        "product": config.product,
        "mandant": config.mandant,
        "sys": config.sys,
        "authentifizierung": config.authentifizierung,
        "funktion": config.write_function,
    }
    params.update(extra)
    return params


def _kept_query(query: str, managed: set[str]) -> tuple[list[str], bool]:
    """The base URL's query pieces, raw, minus those we set; and its ssid.

    Only the first non-empty ``ssid`` of the base URL is kept.
    """
    kept: list[str] = []
    has_session = False
    for piece in filter(None, query.split("&")):
        name, _, value = piece.partition("=")
        name = unquote_plus(name)
        if name == "ssid" and value and not has_session:
            kept.append(piece)
            has_session = True
        elif name not in managed:
            kept.append(piece)
    return kept, has_session


def _pair(name: str, value: str) -> str:
    return f"{quote(name, safe='')}={quote(value, safe='')}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by ***.

    The raw form and the URL-encoded forms (``%20`` or ``+`` for spaces,
    either case of hex digits) are all replaced.
    """
    patterns = sorted(
        {pattern for secret in secrets if secret for pattern in _patterns(secret)},
        key=len,
        reverse=True,
    )
    if not patterns:
        return text
    return re.sub("|".join(patterns), MASK, text)


def _patterns(secret: str) -> set[str]:
    forms = {quote(secret, safe=""), quote(secret), quote_plus(secret, safe="")}
    patterns = {re.escape(secret)}
    for form in forms:
        patterns.add(_PERCENT_TRIPLET.sub(_either_case, re.escape(form)))
    return patterns


def _either_case(match: re.Match[str]) -> str:
    return "%" + "".join(f"[{digit}{digit.lower()}]" for digit in match.groups())
