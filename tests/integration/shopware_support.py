"""Fixtures for the Shopware tests: the Admin API stand-in over loopback HTTP,
and services whose order source is that stand-in.

Test modules import the fixtures they use from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from external_orders.adapters.orders.shopware import ShopwareOrderSource
from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.logs import configure_logging
from external_orders.settings import Settings
from external_orders.simulators.san6 import SimulatorState
from external_orders.simulators.server import BackgroundServer
from external_orders.simulators.settings import simulator_settings
from external_orders.simulators.shopware import ShopwareState, create_app

CLIENT_ID = "SWIATESTCLIENT0000000000"
CLIENT_SECRET = "shopware-test-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def shopware_server() -> Iterator[tuple[BackgroundServer, ShopwareState]]:
    """One stand-in for the session; tests get it reset."""
    state = ShopwareState(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, with_samples=False
    )
    with BackgroundServer(create_app(state)) as server:
        yield server, state


@pytest.fixture
def shopware(
    shopware_server: tuple[BackgroundServer, ShopwareState], clock: FrozenClock
) -> ShopwareState:
    """The stand-in on the test's clock, with no orders, tokens or faults."""
    state = shopware_server[1]
    state.clock = clock
    state.reset(with_samples=False)
    return state


@pytest.fixture
def shopware_url(shopware_server: tuple[BackgroundServer, ShopwareState]) -> str:
    return shopware_server[0].url


@pytest.fixture
def source(
    shopware: ShopwareState, shopware_url: str, clock: FrozenClock
) -> Iterator[ShopwareOrderSource]:
    """The Admin API order source, pointed at the stand-in."""
    built = ShopwareOrderSource(
        shopware_url, CLIENT_ID, CLIENT_SECRET, clock=clock, timeout=5.0
    )
    yield built
    built.close()


def shopware_settings(settings: Settings, url: str) -> Settings:
    return settings.model_copy(
        update={
            "order_source": "shopware",
            "shopware_url": url,
            "shopware_client_id": CLIENT_ID,
            "shopware_client_secret": SecretStr(CLIENT_SECRET),
            "shopware_timeout": 5.0,
        }
    )


@pytest.fixture
def shopware_services(
    settings: Settings,
    clock: FrozenClock,
    shopware: ShopwareState,
    shopware_url: str,
    simulator: SimulatorState,
    simulator_url: str,
) -> Iterator[Services]:
    """Services reading orders from the stand-in and sending to the SAN6 one."""
    configure_logging(settings.log_dir, to_stderr=False)
    built = Services(shopware_settings(settings, shopware_url), clock=clock)
    for key, value in simulator_settings(simulator, simulator_url, timeout=2).items():
        built.config.set(key, value)
    yield built
    built.close()


def received_numbers(simulator: SimulatorState) -> Counter[str]:
    """How often SAN6 received each order number (the AuftragNeu2 Referenz)."""
    numbers: Counter[str] = Counter()
    for request in simulator.requests():
        xml = request.xml or ""
        numbers[xml.split("<Referenz>", 1)[1].split("<", 1)[0]] += 1
    return numbers
