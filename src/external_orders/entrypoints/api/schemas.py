"""The shapes of the API's answers, for the OpenAPI document.

Routes answer plain dicts (``entrypoints.presenters.attempt_json`` for
attempts); these models describe them at ``/docs`` and let schemathesis
check the answers. They allow extra keys, so a key added to the shared
attempt JSON does not break the contract.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from external_orders.domain.attempt import Status, Trigger


class _Answer(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="allow")


class ErrorBody(_Answer):
    message: str = Field(description="What went wrong, safe to show.")


class UnauthorizedBody(ErrorBody):
    errors: list[dict[str, Any]] = Field(
        description="The same problem as Shopware's JSON:API error list."
    )


class AttemptBody(_Answer):
    """One row of ``external_order_export``."""

    export_id: str = Field(description="32 hex digits.")
    order_id: str = Field(description="32 hex digits.")
    order_number: str | None
    status: Status
    strategy: str | None
    attempts: int = Field(description="Failed attempts of the chain so far.")
    response_code: str | None = Field(description="SAN6's code; 0 is accepted.")
    response_message: str | None
    last_error: str | None
    next_retry_at: str | None = Field(description="UTC, ISO 8601.")
    correlation_id: str
    chain_id: str
    retry_of: str | None
    trigger: Trigger
    created_at: str
    updated_at: str


class ExportBody(AttemptBody):
    message: str | None = Field(
        None, description="Why the order was not sent (502, 503), absent on 200."
    )


class ExportNotFoundBody(_Answer):
    status: Literal["not_found"]
    order_id: str
    message: str


class ExportListBody(_Answer):
    data: list[AttemptBody] = Field(description="Newest updated_at first.")


class TokenBody(BaseModel):
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the token stays valid.")
    access_token: str


class HealthBody(_Answer):
    status: Literal["ok"]


class NotReadyBody(_Answer):
    status: Literal["unavailable"]
    message: str


def error(description: str) -> dict[str, Any]:
    """An OpenAPI ``responses`` entry for an error answer."""
    return {"model": ErrorBody, "description": description}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {
        "model": UnauthorizedBody,
        "description": "No, an invalid, an expired or a revoked bearer token; "
        "the answer carries `WWW-Authenticate: Bearer`.",
        "headers": {
            "WWW-Authenticate": {
                "description": "The Bearer challenge.",
                "schema": {"type": "string"},
            }
        },
    }
}
BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: error("A malformed parameter (order id, status, limit, force).")
}
