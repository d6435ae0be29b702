"""``external-orders san6-simulator`` and ``external-orders demo``."""

from __future__ import annotations

import typer


def san6_simulator(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8089, "--port", min=1, max=65535),
) -> None:
    """Run the SAN6 stand-in (write API, both strategies, faults at run time)."""
    from external_orders.simulators.san6 import serve

    print(f"SAN6 simulator on http://{host}:{port}/ (faults: /_simulator/faults)")
    serve(host, port)


def demo() -> None:
    """Export the sample orders to an in-process simulator on the default DB."""
    from external_orders.entrypoints.cli.demo import run_demo

    run_demo()


def register(app: typer.Typer) -> None:
    app.command("san6-simulator")(san6_simulator)
    app.command("demo")(demo)
