"""The SAN6 settings, under the keys the runbook monitors.

Values live in ``system_config``; this module knows the keys, their
defaults, how each is validated and which are secret. It reads nothing
itself: ``load_san6_config`` takes the stored key/value pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from external_orders.errors import InvalidSetting, San6ConfigInvalid

PREFIX = "ExternalOrders.config."
BASE_URL = PREFIX + "externalOrdersSan6BaseUrl"
COMPANY = PREFIX + "externalOrdersSan6Company"
PRODUCT = PREFIX + "externalOrdersSan6Product"
MANDANT = PREFIX + "externalOrdersSan6Mandant"
SYS = PREFIX + "externalOrdersSan6Sys"
AUTHENTIFIZIERUNG = PREFIX + "externalOrdersSan6Authentifizierung"
READ_FUNCTION = PREFIX + "externalOrdersSan6ReadFunction"
WRITE_FUNCTION = PREFIX + "externalOrdersSan6WriteFunction"
SEND_STRATEGY = PREFIX + "externalOrdersSan6SendStrategy"
TIMEOUT = PREFIX + "externalOrdersTimeout"

SECRET_KEYS = frozenset({AUTHENTIFIZIERUNG})
MASK = "***"
MANDANTS = ("Schule", "Zentrale")
# Below 0.1 s every call times out; above 5 min a hung SAN6 blocks a worker.
MIN_TIMEOUT = 0.1
MAX_TIMEOUT = 300.0


class SendStrategy(StrEnum):
    POST_XML = "post-xml"
    FILETRANSFERURL = "filetransferurl"
    DISABLED = "disabled"


def _check_url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port like ":x"
    except ValueError:
        return "must be an http or https URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http or https URL"
    if "authentifizierung" in parse_qs(parts.query):
        # The secret must stay in its own (masked) setting, never in a URL.
        return "must not carry authentifizierung; set " + AUTHENTIFIZIERUNG
    return None


def _check_mandant(value: str) -> str | None:
    return None if value in MANDANTS else "must be Schule or Zentrale"


def _check_strategy(value: str) -> str | None:
    allowed = [strategy.value for strategy in SendStrategy]
    return None if value in allowed else "must be one of " + ", ".join(allowed)


def _check_timeout(value: str) -> str | None:
    problem = f"must be a number of seconds from {MIN_TIMEOUT:g} to {MAX_TIMEOUT:g}"
    try:
        seconds = float(value)
    except ValueError:
        return problem
    if not math.isfinite(seconds) or not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:
        return problem
    return None


def _check_text(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: str | None
    check: Callable[[str], str | None]
    required: bool = True
    secret: bool = False


SPECS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(BASE_URL, None, _check_url),
        SettingSpec(COMPANY, None, _check_text),
        SettingSpec(PRODUCT, None, _check_text),
        SettingSpec(MANDANT, "Schule", _check_mandant),
        SettingSpec(SYS, None, _check_text),
        SettingSpec(AUTHENTIFIZIERUNG, None, _check_text, secret=True),
        SettingSpec(READ_FUNCTION, "API-AUFTRAEGE", _check_text),
        SettingSpec(WRITE_FUNCTION, "API-AUFTRAGNEU2", _check_text),
        SettingSpec(SEND_STRATEGY, SendStrategy.POST_XML.value, _check_strategy),
        SettingSpec(TIMEOUT, "2.5", _check_timeout),
    )
}


def validate_setting(key: str, value: str) -> str:
    """The value to store for ``key``, trimmed; raises ``InvalidSetting``."""
    spec = SPECS.get(key)
    if spec is None:
        raise InvalidSetting(key, "unknown setting key")
    value = value.strip()
    problem = spec.check(value)
    if problem is not None:
        raise InvalidSetting(key, problem)
    return value


def shown(key: str, value: str | None) -> str | None:
    """A value as it may be printed: secrets are masked."""
    if value is not None and key in SECRET_KEYS:
        return MASK
    return value


@dataclass(frozen=True)
class San6Config:
    """A complete, valid set of SAN6 settings."""

    base_url: str
    company: str
    product: str
    mandant: str
    sys: str
    authentifizierung: str
    write_function: str
    strategy: SendStrategy
    timeout: float

    def __repr__(self) -> str:
        # The secret must never reach a log or a traceback through repr().
        return (
            f"San6Config(base_url={self.base_url!r}, company={self.company!r}, "
            f"mandant={self.mandant!r}, strategy={self.strategy.value!r}, "
            f"authentifizierung={MASK!r})"
        )


def effective(stored: Mapping[str, str]) -> dict[str, str | None]:
    """Every known key with its stored value, else its default (or None)."""
    return {key: stored.get(key, spec.default) for key, spec in SPECS.items()}


def config_problems(stored: Mapping[str, str]) -> list[str]:
    """One sentence per missing or invalid setting; empty when all are fine."""
    problems = []
    for key, value in effective(stored).items():
        spec = SPECS[key]
        if value is None or not value.strip():
            if spec.required:
                problems.append(f"{key} is missing")
            continue
        problem = spec.check(value.strip())
        if problem is not None:
            problems.append(f"{key} {problem}")
    return problems


def load_san6_config(stored: Mapping[str, str]) -> San6Config:
    """The SAN6 settings; raises ``San6ConfigInvalid`` naming every problem."""
    problems = config_problems(stored)
    if problems:
        raise San6ConfigInvalid(problems)
    values = {key: (value or "").strip() for key, value in effective(stored).items()}
    return San6Config(
        base_url=values[BASE_URL],
        company=values[COMPANY],
        product=values[PRODUCT],
        mandant=values[MANDANT],
        sys=values[SYS],
        authentifizierung=values[AUTHENTIFIZIERUNG],
        write_function=values[WRITE_FUNCTION],
        strategy=SendStrategy(values[SEND_STRATEGY]),
        timeout=float(values[TIMEOUT]),
    )
