"""The bundled sample orders, and copies of them for load: demos, tests, benches."""

from __future__ import annotations

import copy
import json
import uuid
from importlib import resources
from pathlib import Path
from typing import Any


def sample_files() -> list[Path]:
    """The sample order files shipped with the package, in name order."""
    folder = resources.files("external_orders") / "samples" / "orders"
    paths = (Path(str(path)) for path in folder.iterdir())
    return sorted(path for path in paths if path.name.endswith(".json"))


def generated_orders(count: int, prefix: str = "G") -> list[dict[str, Any]]:
    """``count`` copies of the first sample order, each with its own id and
    order number (``prefix`` + seven digits)."""
    template = json.loads(sample_files()[0].read_text())
    orders = []
    for number in range(count):
        order = copy.deepcopy(template)
        order["id"] = uuid.uuid4().hex
        order["orderNumber"] = f"{prefix}{number:07d}"
        orders.append(order)
    return orders
