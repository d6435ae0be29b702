"""Probes, the OpenAPI document and the answers to unknown routes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from external_orders.adapters.db.schema import external_order_export
from external_orders.bootstrap import Services
from external_orders.settings import Settings
from tests.integration.api_support import Api, running_api

DOCUMENTED = {
    ("post", "/api/oauth/token"): {"200", "400", "401"},
    ("post", "/api/_action/external-orders/export/{orderId}"): {
        "200",
        "400",
        "401",
        "404",
        "409",
        "502",
        "503",
    },
    ("get", "/api/_action/external-orders/export-status/{orderId}"): {
        "200",
        "400",
        "401",
        "404",
    },
    ("get", "/api/_action/external-orders/exports"): {"200", "400", "401"},
    ("get", "/topm-export/{token}"): {"200", "404"},
    ("get", "/healthz"): {"200"},
    ("get", "/readyz"): {"200", "503"},
}


@pytest.fixture
def api(services: Services) -> Iterator[Api]:
    with running_api(services) as running:
        yield running


def test_healthz_answers_while_the_process_runs(api: Api) -> None:
    """/healthz answers 200 ok without touching anything."""
    answer = api.http.get("/healthz")

    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_readyz_answers_200_when_the_database_answers(api: Api) -> None:
    """/readyz answers 200 ok when SELECT 1 succeeds."""
    answer = api.http.get("/readyz")

    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_readyz_answers_503_when_the_database_is_down() -> None:
    """A database nobody listens for makes /readyz 503; /healthz stays 200."""
    settings = Settings(
        database_url="mysql+pymysql://nobody@127.0.0.1:1/none?connect_timeout=2",
        app_secret="test-app-secret-0123456789",
    )
    down = Services(settings)
    try:
        with running_api(down) as api:
            ready = api.http.get("/readyz")
            health = api.http.get("/healthz")
    finally:
        down.close()

    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert health.status_code == 200


def test_docs_page_is_served(api: Api) -> None:
    """/docs answers the Swagger UI page."""
    answer = api.http.get("/docs")

    assert answer.status_code == 200
    assert "swagger" in answer.text.lower()


def test_openapi_describes_every_answer_of_every_route(api: Api) -> None:
    """Each operation lists the statuses it answers, none it does not (422)."""
    document = api.http.get("/openapi.json").json()

    found = {
        (method, path): set(operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    for route, statuses in DOCUMENTED.items():
        assert found[route] == statuses, route
    for responses in found.values():
        assert "422" not in responses


def test_unknown_path_and_method_answer_json_messages(api: Api) -> None:
    """A missing route is 404 and a wrong method 405, both {"message": ...}."""
    missing = api.http.get("/api/nothing")
    wrong = api.http.delete("/healthz")

    assert (missing.status_code, missing.json()) == (404, {"message": "not found"})
    assert (wrong.status_code, wrong.json()) == (405, {"message": "method not allowed"})


def test_readyz_is_503_when_the_tables_are_gone(api: Api) -> None:
    """A database that answers but lost its tables is not ready."""
    with api.services.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE external_order_export")
    try:
        assert api.http.get("/readyz").status_code == 503
    finally:  # the MariaDB test database is shared by the session
        external_order_export.create(api.services.engine)
