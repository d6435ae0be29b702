"""The export of one order to SAN6: one attempt, from start to outcome.

Manual exports, retries and exports of new orders all go through
``Exporter``; each writes its attempt as ``processing`` before SAN6 is
called and always closes it with a status that says what happened, even
when something unexpected breaks in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from external_orders.adapters.db.exports import ExportStore, RetryTaken
from external_orders.adapters.db.system_config import ConfigStore
from external_orders.adapters.san6.answer import San6Answer
from external_orders.adapters.san6.client import San6Client
from external_orders.adapters.signing import UrlSigner
from external_orders.clock import Clock
from external_orders.domain.attempt import (
    Attempt,
    Outcome,
    Status,
    Trigger,
    failure_outcome,
    permanent_outcome,
)
from external_orders.domain.auftrag import build_auftrag_xml
from external_orders.domain.order import order_number_of
from external_orders.domain.san6_config import (
    SEND_STRATEGY,
    San6Config,
    SendStrategy,
    load_san6_config,
)
from external_orders.errors import (
    ExportInFlight,
    OrderNotExportable,
    OrderNotFound,
    OrderSourceUnavailable,
    San6ConfigInvalid,
    San6Unavailable,
    SendingDisabled,
)
from external_orders.logs import log_event, redact
from external_orders.services.ports import OrderSource

FAILED = "TopM order export failed."
SKIPPED_INVALID_CONFIG = "TopM order export skipped: invalid SAN6 config."

AttemptListener = Callable[[Attempt], None]
San6CallListener = Callable[[float, str], None]


class Exporter:
    def __init__(
        self,
        *,
        store: ExportStore,
        config: ConfigStore,
        orders: OrderSource,
        san6: San6Client,
        clock: Clock,
        signer: UrlSigner | None,
        public_url: str,
    ) -> None:
        self.store = store
        self.config = config
        self.orders = orders
        self.san6 = san6
        self.clock = clock
        self.signer = signer
        self.public_url = public_url
        # Called with every closed attempt and every SAN6 call (metrics).
        self.on_finished: list[AttemptListener] = []
        self.on_san6_call: list[San6CallListener] = []

    def sending_disabled(self, stored: Mapping[str, str] | None = None) -> bool:
        stored = self.config.all() if stored is None else stored
        return stored.get(SEND_STRATEGY, "").strip() == SendStrategy.DISABLED.value

    def export(
        self, order_id: UUID, *, force: bool = False, trigger: Trigger = Trigger.MANUAL
    ) -> Attempt:
        """Export an order now, as a new chain.

        Raises ``SendingDisabled`` (no attempt is written), ``OrderNotFound``
        (no attempt), ``ExportInFlight`` and ``AlreadySent``. Every other
        failure is an attempt with a status saying what happened.
        """
        stored = self.config.all()
        if self.sending_disabled(stored):
            raise SendingDisabled()

        order: dict[str, Any] | None = None
        source_error: OrderSourceUnavailable | None = None
        try:
            order = self.orders.get(order_id)
        except OrderSourceUnavailable as error:
            source_error = error

        attempt = self.store.begin(
            order_id,
            trigger,
            force=force,
            order_number=_clip(order_number_of(order) if order else None),
        )
        self._log_queued(attempt)
        if source_error is not None:
            return self._technical_failure(attempt, source_error.problem)
        return self._run(attempt, stored, order)

    def retry(self, pending: Attempt) -> Attempt | None:
        """Continue the chain of a pending retry; None when it was not ours.

        The retry is left pending when sending is disabled, when another
        attempt of the order is processing, or when someone else took it.
        """
        stored = self.config.all()
        if self.sending_disabled(stored):
            return None
        try:
            attempt = self.store.begin(
                pending.order_id,
                Trigger.RETRY,
                continues=pending,
                order_number=pending.order_number,
            )
        except (RetryTaken, ExportInFlight):
            return None
        self._log_queued(attempt)
        return self._run(attempt, stored, None)

    def _run(
        self,
        attempt: Attempt,
        stored: Mapping[str, str],
        order: dict[str, Any] | None,
    ) -> Attempt:
        try:
            return self._send(attempt, stored, order)
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM turned into an interrupt: release the order
            # so it is retried instead of staying blocked in processing.
            self._technical_failure(attempt, "attempt interrupted before its end")
            raise
        except Exception as error:
            # A bug must not leave the order stuck in processing: the attempt
            # is closed as a technical failure and retried like one.
            problem = f"unexpected error: {type(error).__name__}"
            detail = (str(error).splitlines() or [""])[0][:300]
            log_event(
                "TopM order export crashed.",
                level=logging.ERROR,
                **_ids(attempt),
                error=f"{problem}: {detail}",
            )
            return self._technical_failure(attempt, problem)

    def _send(
        self,
        attempt: Attempt,
        stored: Mapping[str, str],
        order: dict[str, Any] | None,
    ) -> Attempt:
        try:
            order = order if order is not None else self.orders.get(attempt.order_id)
        except OrderNotFound:
            return self._permanent_failure(attempt, "order not found in the source")
        except OrderSourceUnavailable as error:
            return self._technical_failure(attempt, error.problem)

        try:
            config = load_san6_config(stored)
            file_transfer_url = self._file_transfer_url(attempt, config)
        except San6ConfigInvalid as error:
            return self._invalid_config(attempt, str(error))

        try:
            xml = build_auftrag_xml(order)
        except OrderNotExportable as error:
            return self._permanent_failure(attempt, str(error))

        self.store.record_request(attempt, config.strategy.value, xml)
        try:
            answer = self.san6.send(config, xml, file_transfer_url)
        except San6Unavailable as error:
            self._notify_call(error.duration_seconds, "unavailable")
            return self._technical_failure(attempt, error.problem, config)
        except San6ConfigInvalid as error:
            return self._invalid_config(attempt, str(error))
        self._notify_call(answer.duration_seconds, "answered")
        return self._answered(attempt, answer, config)

    def _file_transfer_url(self, attempt: Attempt, config: San6Config) -> str | None:
        if config.strategy is not SendStrategy.FILETRANSFERURL:
            return None
        if self.signer is None:
            raise San6ConfigInvalid(
                ["EXTERNAL_ORDERS_APP_SECRET is not set (needed by filetransferurl)"]
            )
        url, _expires_at = self.signer.url(self.public_url, attempt.id)
        return url

    def _answered(
        self, attempt: Attempt, answer: San6Answer, config: San6Config
    ) -> Attempt:
        secret = [config.authentifizierung]
        body = _hide(answer.body, secret)
        message = _hide(answer.message, secret)
        if answer.accepted:
            outcome = Outcome(
                status=Status.SENT,
                attempts=attempt.attempts,
                response_xml=body,
                response_code=_clip(answer.code),
                response_message=message,
            )
        else:
            outcome = failure_outcome(
                attempt.attempts,
                self.clock.now(),
                error=message if answer.code is None else None,
                response_xml=body,
                response_code=_clip(answer.code),
                response_message=message,
            )
        finished = self._finish(attempt, outcome)
        log_event(
            "TopM order export response received.",
            **_ids(finished),
            status=finished.status.value,
            responseCode=finished.response_code,
            responseMessage=finished.response_message,
        )
        if finished.status is not Status.SENT:
            self._log_retry_status(finished)
        return finished

    def _technical_failure(
        self, attempt: Attempt, problem: str, config: San6Config | None = None
    ) -> Attempt:
        if config is not None:
            problem = _hide(problem, [config.authentifizierung]) or problem
        outcome = failure_outcome(attempt.attempts, self.clock.now(), error=problem)
        return self._failed(attempt, outcome, FAILED, logging.WARNING)

    def _permanent_failure(self, attempt: Attempt, problem: str) -> Attempt:
        outcome = permanent_outcome(attempt.attempts, problem)
        return self._failed(attempt, outcome, FAILED, logging.ERROR)

    def _invalid_config(self, attempt: Attempt, problem: str) -> Attempt:
        outcome = permanent_outcome(attempt.attempts, problem)
        return self._failed(attempt, outcome, SKIPPED_INVALID_CONFIG, logging.ERROR)

    def _failed(
        self, attempt: Attempt, outcome: Outcome, message: str, level: int
    ) -> Attempt:
        """Close a failed attempt: its own log line, then its retry status."""
        finished = self._finish(attempt, outcome)
        log_event(message, level=level, **_ids(finished), error=outcome.last_error)
        self._log_retry_status(finished)
        return finished

    def _finish(self, attempt: Attempt, outcome: Outcome) -> Attempt:
        finished = self.store.finish(attempt, outcome)
        for listener in self.on_finished:
            listener(finished)
        return finished

    def _notify_call(self, duration: float, outcome: str) -> None:
        for listener in self.on_san6_call:
            listener(duration, outcome)

    def _log_queued(self, attempt: Attempt) -> None:
        log_event(
            "TopM order export queued.",
            **_ids(attempt),
            trigger=attempt.trigger.value,
            attempts=attempt.attempts,
        )

    def _log_retry_status(self, attempt: Attempt) -> None:
        log_event(
            "TopM order export retry status updated.",
            **_ids(attempt),
            attempts=attempt.attempts,
            status=attempt.status.value,
            nextRetryAt=_iso(attempt),
        )


def _ids(attempt: Attempt) -> dict[str, Any]:
    return {
        "orderId": attempt.order_id.hex,
        "exportId": attempt.id.hex,
        "correlationId": attempt.correlation_id,
    }


def _iso(attempt: Attempt) -> str | None:
    moment = attempt.next_retry_at
    return None if moment is None else moment.isoformat(timespec="milliseconds")


def _hide(text: str | None, secrets: list[str]) -> str | None:
    """``text`` with every secret replaced, so no table column holds one."""
    if text is None:
        return None
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return redact(text)


def _clip(text: str | None, length: int = 64) -> str | None:
    """``text`` cut to fit its column (order_number, response_code)."""
    return None if text is None else text[:length]
