"""``external-orders integration``: Admin API clients (client credentials)."""

from __future__ import annotations

from typing import Any

import typer

from external_orders.adapters.db.integrations import Integration
from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.output import (
    JSON_OPTION_HELP,
    print_json,
    print_table,
)
from external_orders.entrypoints.presenters import iso

app = typer.Typer(
    help="Admin API integrations (access key id and secret).", no_args_is_help=True
)
JsonOption = typer.Option(False, "--json", help=JSON_OPTION_HELP)


def integration_json(integration: Integration) -> dict[str, Any]:
    return {
        "id": integration.id.hex,
        "label": integration.label,
        "accessKeyId": integration.access_key_id,
        "createdAt": iso(integration.created_at),
        "lastUsedAt": iso(integration.last_used_at),
        "revokedAt": iso(integration.revoked_at),
    }


@app.command("create")
def create(
    label: str = typer.Option(..., "--label", help="Who uses it, e.g. support."),
    json_output: bool = JsonOption,
) -> None:
    """Create an integration; its secret is printed now and never again."""
    created = services().integrations.create(label)
    shown = {
        **integration_json(created.integration),
        "secretAccessKey": created.secret_access_key,
    }
    if json_output:
        print_json(shown)
        return
    for key in ("id", "label", "accessKeyId", "secretAccessKey"):
        print(f"{key}: {shown[key]}")
    print("Store the secretAccessKey now: only its hash is kept.")


@app.command("list")
def list_integrations(json_output: bool = JsonOption) -> None:
    """Every integration, revoked ones too; secrets are never shown."""
    shown = [integration_json(i) for i in services().integrations.all()]
    if json_output:
        print_json(shown)
        return
    columns = ["id", "label", "accessKeyId", "createdAt", "lastUsedAt", "revokedAt"]
    rows = [[entry[column] for column in columns] for entry in shown]
    print_table(columns, rows, title="integrations")


@app.command("revoke")
def revoke(
    reference: str = typer.Argument(
        ..., metavar="ID", help="The integration id or its access key id."
    ),
) -> None:
    """Revoke an integration: no new tokens, and its tokens stop working."""
    integration, changed = services().integrations.revoke(reference)
    state = "revoked" if changed else "was already revoked"
    print(f"integration {integration.id.hex} ({integration.access_key_id}) {state}")
