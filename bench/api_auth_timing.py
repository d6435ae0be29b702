"""Token endpoint timing: right secret, wrong secret, unknown access key.

Over real HTTP on loopback, interleaved so that drift hits every kind alike.
Prints the median and p95 answer time of each kind and the spread of the
medians; the three should be close, since each runs one argon2 verify.

    .venv/bin/python bench/api_auth_timing.py --rounds 40
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from external_orders.adapters.db.engine import upgrade_database
from external_orders.bootstrap import Services
from external_orders.entrypoints.api.app import create_app
from external_orders.logs import configure_logging
from external_orders.settings import Settings
from external_orders.simulators.server import BackgroundServer


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-auth-"))
    settings = Settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        log_dir=folder / "log",
        app_secret="bench-app-secret-0123456789",
    )
    configure_logging(settings.log_dir, to_stderr=False)
    services = Services(settings)
    upgrade_database(services.engine)
    created = services.integrations.create("bench")
    client_id = created.integration.access_key_id
    kinds = {
        "right secret": (client_id, created.secret_access_key, 200),
        "wrong secret": (client_id, created.secret_access_key[:-1] + "?", 401),
        "unknown access key": ("SWIA" + "Z" * 26, created.secret_access_key, 401),
    }
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}

    with (
        BackgroundServer(create_app(services)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        for _round in range(options.rounds):
            for kind, (identifier, secret, expected) in kinds.items():
                form = {
                    "grant_type": "client_credentials",
                    "client_id": identifier,
                    "client_secret": secret,
                }
                started = time.perf_counter()
                answer = http.post("/api/oauth/token", data=form)
                timings[kind].append(time.perf_counter() - started)
                assert answer.status_code == expected, answer.text
    services.close()

    print(f"rounds: {options.rounds} (each kind once per round, interleaved)")
    medians = {}
    for kind, values in timings.items():
        medians[kind] = statistics.median(values)
        print(
            f"{kind:>18}: median {medians[kind] * 1000:6.1f} ms, "
            f"p95 {percentile(values, 0.95) * 1000:6.1f} ms"
        )
    spread = max(medians.values()) - min(medians.values())
    print(f"spread of medians: {spread * 1000:.1f} ms")


if __name__ == "__main__":
    main()
