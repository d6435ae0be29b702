"""``/healthz`` (the process answers) and ``/readyz`` (so does the database)."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from external_orders.bootstrap import Services
from external_orders.entrypoints.api.schemas import HealthBody, NotReadyBody
from external_orders.logs import log_event


def router(services: Services) -> APIRouter:
    routes = APIRouter(tags=["health"])

    @routes.get(
        "/healthz",
        summary="The process answers",
        response_model=HealthBody,
        responses={200: {"description": "Always, while the process runs."}},
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @routes.get(
        "/readyz",
        summary="The database answers",
        response_model=None,
        responses={
            200: {"model": HealthBody, "description": "`SELECT 1` succeeded."},
            503: {"model": NotReadyBody, "description": "The database failed."},
        },
    )
    def readyz() -> JSONResponse:
        try:
            with services.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:
            log_event(
                "Readiness check failed: database unavailable.",
                level=logging.WARNING,
                error=type(error).__name__,
            )
            body = {"status": "unavailable", "message": "database unavailable"}
            return JSONResponse(body, 503)
        return JSONResponse({"status": "ok"})

    return routes
