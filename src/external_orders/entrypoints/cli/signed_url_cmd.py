"""``external-orders signed-url``: the download link SAN6 gets for an export."""

from __future__ import annotations

import sys
from uuid import UUID

import typer

from external_orders.adapters.signing import DEFAULT_TTL_SECONDS
from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.errors import CommandFailed
from external_orders.entrypoints.cli.export_cmd import parse_export_id
from external_orders.entrypoints.cli.output import JSON_OPTION_HELP, print_json
from external_orders.entrypoints.presenters import iso
from external_orders.errors import (
    ExportNotFound,
    SigningUnavailable,
)

MAX_EXPIRES_IN = 7 * 24 * 3600


def signed_url(
    export_id: str = typer.Argument(
        ..., metavar="EXPORT_ID", help="32 hex digits or a dashed UUID."
    ),
    expires_in: int = typer.Option(
        DEFAULT_TTL_SECONDS, "--expires-in", min=1, max=MAX_EXPIRES_IN, help="Seconds."
    ),
    validate_exists: bool = typer.Option(
        False,
        "--validate-exists",
        help="Fail unless the export exists and has its XML stored.",
    ),
    json_output: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Print the signed /topm-export URL of an export (stdout) and its expiry.

    The URL alone is on stdout, so `curl -i "$(external-orders signed-url ID)"`
    works; the expiry goes to stderr (or both into --json).
    """
    parsed = parse_export_id(export_id)
    built = services()
    if built.signer is None:
        raise SigningUnavailable()
    if validate_exists:
        _check_exists(parsed)

    url, expires_at = built.signer.url(built.settings.public_url, parsed, expires_in)
    if json_output:
        shown = {"exportId": parsed.hex, "url": url, "expiresAt": iso(expires_at)}
        print_json({**shown, "expiresIn": expires_in})
        return
    print(url)
    print(f"expires at {iso(expires_at)} (in {expires_in} s)", file=sys.stderr)


def _check_exists(export_id: UUID) -> None:
    attempt = services().exports.find(export_id)
    if attempt is None:
        raise ExportNotFound(export_id)
    if attempt.request_xml is None:
        raise CommandFailed(
            f"export {export_id.hex} has no stored XML: its URL would answer 404"
        )


def register(app: typer.Typer) -> None:
    app.command("signed-url")(signed_url)
