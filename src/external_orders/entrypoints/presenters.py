"""How attempts look to users: the JSON shared by the CLI and the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from external_orders.domain.attempt import Attempt


def iso(moment: datetime | None) -> str | None:
    """UTC with milliseconds and a ``Z``, as the table stores it."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    return {
        "exportId": attempt.id.hex,
        "orderId": attempt.order_id.hex,
        "orderNumber": attempt.order_number,
        "status": attempt.status.value,
        "strategy": attempt.strategy,
        "attempts": attempt.attempts,
        "responseCode": attempt.response_code,
        "responseMessage": attempt.response_message,
        "lastError": attempt.last_error,
        "nextRetryAt": iso(attempt.next_retry_at),
        "correlationId": attempt.correlation_id,
        "chainId": attempt.chain_id.hex,
        "retryOf": attempt.retry_of.hex if attempt.retry_of else None,
        "trigger": attempt.trigger.value,
        "createdAt": iso(attempt.created_at),
        "updatedAt": iso(attempt.updated_at),
    }
