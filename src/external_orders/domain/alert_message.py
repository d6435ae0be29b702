"""What an alert notification says, the same on every channel.

The fields are runbook 3.4's minimum payload (``service``, ``metric``,
``severity``, ``value``, ``threshold``, ``timeWindow``, ``runbook``) plus the
alert's name, the event, the time and the dashboard link. The escalation
alert of section 6 also carries the section's steps. Texts are in French,
like the runbook the operators read next.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from external_orders.domain.alerting import Event
from external_orders.domain.kpi import Level

SERVICE = "ExternalOrders"
RUNBOOK = "docs/runbook-export-san6.md"

ESCALATION_STEPS = (
    "T+0 min (Support L1) : qualifier l'incident, ouvrir un ticket incident, "
    "notifier #incident-topm.",
    "T+10 min (Ops) : vérifier la connectivité SAN6, la tâche "
    "external_orders.export_retry (external-orders task list) et la "
    "disponibilité de l'API TopM.",
    "T+20 min (Dev d'astreinte) : activer le mode dégradé (suspendre les "
    "relances manuelles non critiques), confirmer la stratégie de reprise.",
    "T+30 min (Management/PO) : communication métier (impact commandes), ETA "
    "et décisions de contournement.",
    "Rétablissement : laisser la tâche de retry vider la file, surveiller le "
    "retour à retry_pending_total < 20, puis rédiger le REX.",
)

_EVENT_TEXT = {
    Event.FIRING: "alerte déclenchée",
    Event.ESCALATED: "alerte aggravée (warning -> critical)",
    Event.REPEAT: "alerte toujours critique",
    Event.RESOLVED: "alerte résolue",
    Event.TEST: "notification de test",
}


@dataclass(frozen=True)
class AlertMessage:
    alert: str
    event: Event
    severity: Level
    metric: str
    value: float | None
    threshold: float | None
    comparison: str
    time_window_minutes: int
    at: datetime
    dashboard_url: str | None = None
    steps: tuple[str, ...] = field(default=())

    def fields(self) -> dict[str, str]:
        """The payload, as ``key: text`` (runbook 3.4 and more)."""
        return {
            "service": SERVICE,
            "alert": self.alert,
            "event": self.event.value,
            "metric": self.metric,
            "severity": self.severity.value,
            "value": _number(self.value),
            "threshold": f"{self.comparison} {_number(self.threshold)}",
            "timeWindow": f"{self.time_window_minutes}m",
            "runbook": RUNBOOK,
            "dashboard": self.dashboard_url or "",
            "at": self.at.isoformat(timespec="seconds"),
        }

    def subject(self) -> str:
        word = "RESOLVED" if self.event is Event.RESOLVED else self.severity.upper()
        return (
            f"[{SERVICE}] {word} {self.alert}: {self.metric} = "
            f"{_number(self.value)} (seuil {self.comparison} "
            f"{_number(self.threshold)})"
        )

    def text(self) -> str:
        """The plain text of a mail, or the body of a Slack message."""
        lines = [f"{SERVICE} : {_EVENT_TEXT[self.event]} ({self.alert})", ""]
        lines += [f"{key}={value}" for key, value in self.fields().items() if value]
        if self.steps:
            lines += ["", "Escalade (runbook, section 6) :"]
            lines += [f"{number}. {text}" for number, text in enumerate(self.steps, 1)]
        return "\n".join(lines)

    def to_json(self) -> str:
        values = asdict(self)
        values["at"] = self.at.isoformat()
        return json.dumps(values, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> AlertMessage:
        values: dict[str, Any] = json.loads(text)
        values["event"] = Event(values["event"])
        values["severity"] = Level(values["severity"])
        values["at"] = datetime.fromisoformat(values["at"])
        values["steps"] = tuple(values.get("steps") or ())
        return cls(**values)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
