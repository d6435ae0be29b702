"""``/healthz`` (the process answers) and ``/readyz`` (so does the database)."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from external_orders.adapters.db.schema import external_order_export
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
            200: {"model": HealthBody, "description": "The attempt table answers."},
            503: {"model": NotReadyBody, "description": "The database failed."},
        },
    )
    def readyz() -> JSONResponse:
        try:
            with services.engine.connect() as connection:
                # A table, not SELECT 1: a dropped or emptied database answers
                # SELECT 1 while every API call fails.
                connection.execute(sa.select(external_order_export.c.id).limit(1))
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
