"""Shared fixtures: real databases (SQLite file, MariaDB when configured),
the SAN6 simulator over loopback HTTP, and a service wired to both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from external_orders.adapters.db.engine import create_database_engine, upgrade_database
from external_orders.adapters.db.schema import metadata
from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock, SystemClock
from external_orders.logs import configure_logging
from external_orders.settings import Settings
from external_orders.simulators.san6 import SimulatorState, create_app
from external_orders.simulators.server import BackgroundServer
from external_orders.simulators.settings import simulator_settings

MYSQL_URL = os.environ.get("EXTERNAL_ORDERS_TEST_MYSQL_URL")
BACKENDS = ["sqlite"] + (["mysql"] if MYSQL_URL else [])


@pytest.fixture(scope="session")
def mysql_engine() -> Iterator[sa.Engine]:
    """The MariaDB test database, migrated once per session."""
    if not MYSQL_URL:
        pytest.skip("EXTERNAL_ORDERS_TEST_MYSQL_URL is not set")
    engine = create_database_engine(MYSQL_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        for table in [*metadata.sorted_tables, sa.table("alembic_version")]:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file, or MariaDB emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'external-orders.db'}"
        engine = create_database_engine(url)
        upgrade_database(engine)
        engine.dispose()
        return url
    engine = request.getfixturevalue("mysql_engine")
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    assert MYSQL_URL is not None
    return MYSQL_URL


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(SystemClock().now())


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        order_dir=tmp_path / "orders",
        log_dir=tmp_path / "log",
        app_secret="test-app-secret-0123456789",
        public_url="http://127.0.0.1:1",
    )


@pytest.fixture
def services(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    configure_logging(settings.log_dir, to_stderr=False)
    built = Services(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[tuple[BackgroundServer, SimulatorState]]:
    state = SimulatorState()
    with BackgroundServer(create_app(state)) as server:
        yield server, state


@pytest.fixture
def simulator(
    simulator_server: tuple[BackgroundServer, SimulatorState],
) -> SimulatorState:
    """The SAN6 simulator with no faults and nothing received yet."""
    _server, state = simulator_server
    state.reset()
    return state


@pytest.fixture
def simulator_url(simulator_server: tuple[BackgroundServer, SimulatorState]) -> str:
    return simulator_server[0].url


@pytest.fixture
def configured(
    services: Services, simulator: SimulatorState, simulator_url: str
) -> Services:
    """A service whose SAN6 settings point at the simulator."""
    for key, value in simulator_settings(simulator, simulator_url, timeout=2).items():
        services.config.set(key, value)
    return services
