"""Many simultaneous manual exports of one order reach SAN6 once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from external_orders.bootstrap import Services
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import Faults, SimulatorState
from tests.integration.api_support import ACTION, Api, import_samples, running_api

ORDER_ID = json.loads(sample_files()[0].read_text())["id"]
REQUESTS = 100


@pytest.fixture
def api(configured: Services) -> Iterator[Api]:
    import_samples(configured)
    with running_api(configured) as running:
        yield running


async def post_all(api: Api, token: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(
        base_url=api.url, limits=limits, timeout=60, headers=headers
    ) as client:
        answers = await asyncio.gather(
            *(client.post(f"{ACTION}/export/{ORDER_ID}") for _ in range(count))
        )
    return [answer.status_code for answer in answers]


def test_100_concurrent_posts_send_once_and_refuse_the_rest(
    api: Api, simulator: SimulatorState
) -> None:
    """Exactly one SAN6 request and one 200; the 99 others answer 409."""
    # SAN6 answers slowly, so that most requests meet the attempt in flight.
    simulator.set_faults(Faults(latency_seconds=0.3))

    statuses = asyncio.run(post_all(api, api.token(), REQUESTS))

    assert Counter(statuses) == {200: 1, 409: REQUESTS - 1}
    assert len(simulator.requests()) == 1
    assert len(api.services.exports.history(uuid.UUID(ORDER_ID), limit=10)) == 1
