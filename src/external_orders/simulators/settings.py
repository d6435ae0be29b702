"""SAN6 settings that point the service at a running simulator."""

from __future__ import annotations

from external_orders.domain import san6_config as keys
from external_orders.simulators.san6 import SimulatorState


def simulator_settings(
    state: SimulatorState, url: str, *, timeout: float = 2.5
) -> dict[str, str]:
    """The ``system_config`` values for the simulator listening at ``url``."""
    return {
        keys.BASE_URL: f"{url}/san6/api",
        keys.COMPANY: state.company,
        keys.PRODUCT: state.product,
        keys.MANDANT: "Schule",
        keys.SYS: state.sys,
        keys.AUTHENTIFIZIERUNG: state.authentifizierung,
        keys.SEND_STRATEGY: "post-xml",
        keys.TIMEOUT: str(timeout),
    }
