"""Export throughput: N generated orders against the SAN6 simulator.

Prints orders per second, p50/p95/p99 export latency and peak memory.

    .venv/bin/python bench/export_throughput.py --orders 500 --latency-ms 20
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from external_orders.adapters.db.engine import upgrade_database
from external_orders.bootstrap import Services
from external_orders.domain.attempt import Status
from external_orders.logs import configure_logging
from external_orders.settings import Settings
from external_orders.simulators.sample_orders import generated_orders
from external_orders.simulators.san6 import Faults, SimulatorState, create_app
from external_orders.simulators.server import BackgroundServer
from external_orders.simulators.settings import simulator_settings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))
    settings = Settings(
        database_url=options.database_url or f"sqlite:///{folder / 'bench.db'}",
        order_dir=folder / "orders",
        log_dir=folder / "log",
    )
    configure_logging(settings.log_dir, to_stderr=False)
    services = Services(settings)
    state = SimulatorState()
    state.set_faults(Faults(latency_seconds=options.latency_ms / 1000))
    orders = generated_orders(options.orders, prefix="B")
    source = folder / "orders.json"
    source.write_text(json.dumps({"data": orders}))

    with BackgroundServer(create_app(state)) as simulator:
        upgrade_database(services.engine)
        for key, value in simulator_settings(state, simulator.url).items():
            services.config.set(key, value)
        services.file_orders.import_files([source])
        ids = [uuid.UUID(order["id"]) for order in orders]

        latencies: list[float] = []

        def export(order_id: uuid.UUID) -> Status:
            started = time.perf_counter()
            attempt = services.exporter.export(order_id)
            latencies.append(time.perf_counter() - started)
            return attempt.status

        tracemalloc.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(options.concurrency) as pool:
            statuses = list(pool.map(export, ids))
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    services.close()
    sent = statuses.count(Status.SENT)
    print(f"orders: {len(ids)}  sent: {sent}  concurrency: {options.concurrency}")
    print(f"simulated SAN6 latency: {options.latency_ms:.0f} ms")
    print(f"throughput: {len(ids) / elapsed:.1f} orders/s over {elapsed:.2f} s")
    print(
        "export latency: "
        f"p50 {percentile(latencies, 0.50) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
        f"mean {statistics.fmean(latencies) * 1000:.1f} ms"
    )
    print(f"peak traced Python memory: {peak / 1024 / 1024:.1f} MiB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.1f} MiB")


if __name__ == "__main__":
    main()
