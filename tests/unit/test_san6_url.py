"""Building SAN6 request URLs and redacting the secret."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import pytest

from external_orders.adapters.san6.url import build_request_url, redact
from external_orders.domain.san6_config import San6Config, SendStrategy

CONFIG = San6Config(
    base_url="https://san6.example:4443/topm/api",
    company="Firma & Co",
    product="demo-product",
    mandant="Schule",
    sys="prod",
    authentifizierung="s3cr&t=ä/ +",
    write_function="API-AUFTRAGNEU2",
    strategy=SendStrategy.POST_XML,
    timeout=2.5,
)
FILE_URL = "https://shop.example/topm-export/abc?x=1&y=%2F#frag"


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def test_sends_every_parameter_in_order_with_nosession() -> None:
    """Without an ssid in the base URL, nosession leads the standard parameters."""
    url = build_request_url(CONFIG)

    assert url.startswith("https://san6.example:4443/topm/api?")
    assert query(url) == [
        ("ssid", "nosession"),
        ("company", "Firma & Co"),
        ("product", "demo-product"),
        ("mandant", "Schule"),
        ("sys", "prod"),
        ("authentifizierung", "s3cr&t=ä/ +"),
        ("funktion", "API-AUFTRAGNEU2"),
    ]


def test_keeps_the_base_url_path_and_query() -> None:
    """The base URL's own query pieces stay, raw and first."""
    config = replace(CONFIG, base_url="http://h/a/b/?lang=de&flag&x=%2F")

    url = build_request_url(config)

    assert url.startswith("http://h/a/b/?lang=de&flag&x=%2F&ssid=nosession&company=")


def test_uses_the_base_urls_ssid_without_duplicating_it() -> None:
    """An ssid carried by the base URL is the one sent, once."""
    config = replace(CONFIG, base_url="http://h/api?ssid=S-42&lang=de")

    names = [name for name, _ in query(build_request_url(config))]

    assert query(build_request_url(config))[0] == ("ssid", "S-42")
    assert names.count("ssid") == 1


def test_an_empty_ssid_in_the_base_url_becomes_nosession() -> None:
    """``ssid=`` carries no session, so nosession is sent instead."""
    config = replace(CONFIG, base_url="http://h/api?ssid=")

    assert [v for n, v in query(build_request_url(config)) if n == "ssid"] == [
        "nosession"
    ]


def test_config_values_replace_the_same_parameters_in_the_base_url() -> None:
    """A company in the base URL is not sent next to the configured one."""
    config = replace(CONFIG, base_url="http://h/api?company=old&funktion=X")

    pairs = query(build_request_url(config))

    assert [v for n, v in pairs if n == "company"] == ["Firma & Co"]
    assert [v for n, v in pairs if n == "funktion"] == ["API-AUFTRAGNEU2"]


def test_extra_parameters_come_last_and_are_encoded() -> None:
    """The filetransferurl value survives its ://?&=# characters."""
    url = build_request_url(CONFIG, {"filetransferurl": FILE_URL})

    assert query(url)[-1] == ("filetransferurl", FILE_URL)
    assert (
        "filetransferurl=https%3A%2F%2Fshop.example%2Ftopm-export%2Fabc%3Fx%3D1" in url
    )
    assert "#" not in url


def test_extra_parameters_may_not_replace_standard_ones() -> None:
    """Passing a standard parameter as extra is a programming error."""
    with pytest.raises(ValueError, match="authentifizierung"):
        build_request_url(CONFIG, {"authentifizierung": "other"})


def test_drops_the_fragment_of_the_base_url() -> None:
    """A fragment is never sent, so it is left out."""
    config = replace(CONFIG, base_url="http://h/api#top")

    assert build_request_url(config).startswith("http://h/api?ssid=nosession&")


def test_redact_replaces_raw_and_encoded_forms() -> None:
    """The secret disappears raw, percent-encoded and form-encoded."""
    secret = CONFIG.authentifizierung
    url = build_request_url(CONFIG)
    text = f"{url} | {secret} | s3cr%26t%3d%c3%a4%2f+%2b | s3cr%26t%3D%C3%A4/%20%2B"

    redacted = redact(text, [secret])

    assert "s3cr" not in redacted
    assert redacted.count("***") == 4


def test_redact_ignores_empty_secrets() -> None:
    """An empty secret does not mask the whole text."""
    assert redact("nothing to hide", ["", ""]) == "nothing to hide"


def test_redact_replaces_every_secret_given() -> None:
    """Several secrets are all masked, each occurrence."""
    assert redact("a-b a-b c.d", ["a-b", "c.d"]) == "*** *** ***"
