"""``GET /metrics``: Prometheus text format 0.0.4, without authentication.

Prometheus scrapes with no login, and what it reads here is only counts,
durations and thresholds: no order data, no id, no secret. Protect it at
the network instead: keep the service behind the reverse proxy and let
only the Prometheus server reach ``/metrics`` (an ``allow``/``deny`` rule,
or basic auth at the proxy with ``basic_auth`` in the scrape config).
The router reads the ``Services`` of the app from
``request.app.state.services``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from external_orders.bootstrap import Services

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Every metric, the KPI gauges read from the database now."""
    services: Services = request.app.state.services
    return Response(services.metrics.render(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
