"""Run the real ``external-orders`` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

COMMAND = Path(sys.executable).with_name("external-orders")


@dataclass
class Cli:
    """The command bound to one install folder (its own ./var)."""

    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    def __call__(
        self, *args: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("EXTERNAL_ORDERS_")
        }
        environment.update(self.env)
        return subprocess.run(
            [str(COMMAND), *args],
            cwd=self.folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def log_lines(self) -> list[dict[str, Any]]:
        path = self.folder / "var" / "log" / "external-orders.log"
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A fresh install folder with its database upgraded."""
    command = Cli(tmp_path)
    done = command("db", "upgrade")
    assert done.returncode == 0, done.stderr
    return command
