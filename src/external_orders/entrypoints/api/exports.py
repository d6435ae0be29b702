"""The support routes of runbook sections 4 and 5, behind a bearer token."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from external_orders.bootstrap import Services
from external_orders.domain.attempt import MAX_RETRIES, Attempt, Status
from external_orders.domain.order import parse_order_id
from external_orders.entrypoints.api.errors import status_of_export
from external_orders.entrypoints.api.schemas import (
    BAD_REQUEST,
    UNAUTHORIZED,
    AttemptBody,
    ErrorBody,
    ExportBody,
    ExportListBody,
    ExportNotFoundBody,
    error,
)
from external_orders.entrypoints.api.security import Authenticated
from external_orders.entrypoints.presenters import attempt_json, iso
from external_orders.errors import InvalidInput

PREFIX = "/api/_action/external-orders"
MAX_LIST_LIMIT = 500
DEFAULT_LIST_LIMIT = 100
# Exports wait for SAN6 in threads of their own: with filetransferurl, SAN6
# downloads the XML from this service while the export waits, and that
# download must find a free thread in the shared pool.
CONCURRENT_EXPORTS = 8

# In the document only: the route itself checks ids (parse_order_id), so a
# malformed one gets its own message rather than a pattern error.
ORDER_ID_PATTERN = (
    "[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    "-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
OrderIdPath = Annotated[
    str,
    Path(
        alias="orderId",
        description="32 hex digits or a dashed UUID, in any case.",
        examples=["0191b1a6f6d97c2e8a5c2b7d3e4f5a6b"],
        json_schema_extra={"pattern": f"^({ORDER_ID_PATTERN})$"},
    ),
]

_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ExportBody, "description": "SAN6 accepted the order (`sent`)."},
    **BAD_REQUEST,
    **UNAUTHORIZED,
    404: error("No such order in the order source; no attempt was written."),
    409: error("An attempt of the order is processing, or it was already sent."),
    502: {
        "model": ExportBody,
        "description": "SAN6 refused the order or could not be reached; the "
        "attempt is `retry_scheduled` (or `failed_permanent`), see `message`.",
    },
    503: {
        "model": ExportBody | ErrorBody,
        "description": "Sending is disabled (no attempt written, body "
        "`{message}` only) or the SAN6 settings are invalid (the attempt is "
        "`failed_permanent`).",
    },
}


def router(services: Services, authenticated: Authenticated) -> APIRouter:
    routes = APIRouter(
        prefix=PREFIX, tags=["exports"], dependencies=[Depends(authenticated)]
    )
    limiter = anyio.CapacityLimiter(CONCURRENT_EXPORTS)

    @routes.post(
        "/export/{orderId}",
        summary="Export an order to SAN6 now (runbook 4.3)",
        response_model=None,
        responses=_EXPORT_RESPONSES,
    )
    async def export(
        order_id: OrderIdPath,
        force: Annotated[
            bool, Query(description="Send again an order whose latest attempt is sent.")
        ] = False,
    ) -> JSONResponse:
        """Writes one attempt, sends it and answers how it ended.

        The request body is ignored (the runbook sends none, with
        `Content-Type: application/json`).
        """
        run = partial(services.exporter.export, parse_order_id(order_id), force=force)
        attempt = await anyio.to_thread.run_sync(run, limiter=limiter)
        status = status_of_export(attempt)

        body = attempt_json(attempt)
        if status != 200:
            body["message"] = _not_sent_message(attempt)
        return JSONResponse(body, status)

    @routes.get(
        "/export-status/{orderId}",
        summary="The latest attempt of an order",
        response_model=None,
        responses={
            200: {"model": AttemptBody, "description": "The latest attempt."},
            **BAD_REQUEST,
            **UNAUTHORIZED,
            404: {"model": ExportNotFoundBody, "description": "No attempt yet."},
        },
    )
    def export_status(order_id: OrderIdPath) -> JSONResponse:
        parsed = parse_order_id(order_id)
        latest = services.exports.latest(parsed)
        if latest is None:
            body = {
                "status": "not_found",
                "orderId": parsed.hex,
                "message": f"no export attempt for order {parsed.hex}",
            }
            return JSONResponse(body, 404)
        return JSONResponse(attempt_json(latest))

    @routes.get(
        "/exports",
        summary="Latest attempts, newest update first (runbook 5)",
        response_model=None,
        responses={
            200: {"model": ExportListBody, "description": "At most `limit` rows."},
            **BAD_REQUEST,
            **UNAUTHORIZED,
        },
    )
    def exports(
        status: Annotated[
            str | None,
            Query(
                description="Only this status; empty for all.",
                json_schema_extra={"enum": ["", *(s.value for s in Status)]},
            ),
        ] = None,
        order_id: Annotated[
            str | None,
            Query(
                alias="orderId",
                description="Only this order; empty for all.",
                json_schema_extra={"pattern": f"^({ORDER_ID_PATTERN})?$"},
            ),
        ] = None,
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIST_LIMIT, description="At most 500.")
        ] = DEFAULT_LIST_LIMIT,
    ) -> JSONResponse:
        attempts = services.exports.recent(
            limit,
            by="updated_at",
            status=_status(status),
            order_id=parse_order_id(order_id) if order_id else None,
        )
        return JSONResponse({"data": [attempt_json(a) for a in attempts]})

    return routes


def _status(value: str | None) -> Status | None:
    if not value:
        return None
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join(status.value for status in Status)
        raise InvalidInput(f"unknown status {value!r}: use one of {allowed}") from None


def _not_sent_message(attempt: Attempt) -> str:
    """Why the attempt is not ``sent`` and what happens next."""
    if attempt.response_code is not None:
        problem = f"SAN6 refused the order: code {attempt.response_code}"
        if attempt.response_message:
            problem += f" ({attempt.response_message})"
    else:
        problem = attempt.last_error or "SAN6 did not accept the order"

    if attempt.status is Status.RETRY_SCHEDULED:
        return (
            f"{problem}; retry {attempt.attempts} of {MAX_RETRIES} "
            f"scheduled at {iso(attempt.next_retry_at)}"
        )
    return f"{problem}; {attempt.status.value}, no automatic retry"
