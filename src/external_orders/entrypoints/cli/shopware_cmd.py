"""``external-orders shopware-simulator``: the Shopware Admin API stand-in."""

from __future__ import annotations

import typer


def shopware_simulator(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8090, "--port", min=1, max=65535),
    client_id: str = typer.Option("demo-client-id", "--client-id"),
    client_secret: str = typer.Option("demo-client-secret", "--client-secret"),
    token_lifetime: int = typer.Option(
        600, "--token-lifetime", min=1, help="Seconds a token is valid."
    ),
    samples: bool = typer.Option(
        True, "--samples/--no-samples", help="Serve the sample orders."
    ),
) -> None:
    """Run the Shopware Admin API stand-in (token, order search, faults)."""
    from external_orders.simulators.shopware import ShopwareState, serve

    state = ShopwareState(
        client_id=client_id,
        client_secret=client_secret,
        token_lifetime=token_lifetime,
        with_samples=samples,
    )
    print(
        f"Shopware Admin API stand-in on http://{host}:{port}/ "
        f"(client id {client_id}; orders and faults: /_simulator)"
    )
    serve(host, port, state)


def register(app: typer.Typer) -> None:
    app.command("shopware-simulator")(shopware_simulator)
