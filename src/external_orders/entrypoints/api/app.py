"""The HTTP API: Shopware-like Admin API routes, the file transfer, probes.

``create_app(services)`` builds the ASGI app; ``external-orders serve`` runs
it on uvicorn. Routes read ``services`` through closures; the app also
keeps it as ``app.state.services`` for routers defined at module level.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from external_orders import __version__
from external_orders.bootstrap import Services
from external_orders.entrypoints.api import (
    exports,
    file_transfer,
    health,
    metrics,
    oauth,
)
from external_orders.entrypoints.api.errors import install_error_handlers
from external_orders.entrypoints.api.request_log import RequestLog
from external_orders.entrypoints.api.security import bearer_dependency

DESCRIPTION = """\
Exports Shopware 6 orders to TopM SAN6 and shows every attempt.

Get a token with `POST /api/oauth/token` (`grant_type=client_credentials`,
`client_id`, `client_secret` of an integration made with
`external-orders integration create`), then send it as
`Authorization: Bearer <token>` to the `/api/_action/...` routes.
Errors answer `{"message": ...}`.
"""


class AdminApi(FastAPI):
    """FastAPI whose OpenAPI document lists the statuses it really answers."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = get_openapi(
                title=self.title,
                version=self.version,
                description=self.description,
                routes=self.routes,
            )
            self.openapi_schema = _without_validation_errors(document)
        return self.openapi_schema


def create_app(services: Services) -> FastAPI:
    app = AdminApi(
        title="external-orders",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)

    authenticated = bearer_dependency(services)
    app.include_router(oauth.router(services))
    app.include_router(exports.router(services, authenticated))
    app.include_router(file_transfer.router(services))
    app.include_router(health.router(services))
    app.include_router(metrics.router)

    app.add_middleware(RequestLog)
    return app


def _without_validation_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Drops FastAPI's default 422 answers: invalid input is answered 400."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document
