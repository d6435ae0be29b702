"""A schemathesis run over the OpenAPI document finds no server error.

The run uses the ``schemathesis`` command against the API on loopback, with
a bearer token, and a dictionary of real order ids and credentials so that
part of the generated calls reach the export logic. SAN6 (the simulator)
is healthy: the export route's documented 502 and 503 only mean "SAN6
refused, is unreachable or disabled", which this run never arranges.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from external_orders.bootstrap import Services
from external_orders.simulators.san6 import SimulatorState
from tests.integration.api_support import import_samples, running_api

COMMAND = Path(sys.executable).with_name("schemathesis")
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "ignored_auth",
]


def config_file(folder: Path, order_ids: list[str], client: tuple[str, str]) -> Path:
    """schemathesis.toml: real ids and credentials, used half of the time."""
    client_id, client_secret = client
    text = f"""
[dictionaries.orders]
values = {json.dumps(order_ids[:3])}

[dictionaries.clients]
values = [{json.dumps(client_id)}]

[dictionaries.secrets]
values = [{json.dumps(client_secret)}]

[parameters]
"path.orderId" = {{ dictionary = "orders", probability = 0.5 }}
"query.orderId" = {{ dictionary = "orders", probability = 0.5 }}
"body.client_id" = {{ dictionary = "clients", probability = 0.5 }}
"body.client_secret" = {{ dictionary = "secrets", probability = 0.5 }}
"""
    path = folder / "schemathesis.toml"
    path.write_text(text)
    return path


# SQLite only: the run checks the HTTP contract, which the backend does not
# change, and twice the run would double the slowest test of the suite.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_schemathesis_finds_no_server_error(
    configured: Services, simulator: SimulatorState, tmp_path: Path
) -> None:
    """Every generated request gets a documented, non-5xx answer."""
    order_ids = import_samples(configured)
    with running_api(configured) as api:
        token = api.token()
        config = config_file(tmp_path, order_ids, api.credentials("fuzz"))
        done = subprocess.run(
            [
                str(COMMAND),
                "--config-file",
                str(config),
                "--no-color",
                "run",
                f"{api.url}/openapi.json",
                "--checks",
                ",".join(CHECKS),
                "--max-examples",
                "25",
                "--seed",
                "20261203",
                "--generation-database",
                "none",
                "--header",
                f"Authorization: Bearer {token}",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
