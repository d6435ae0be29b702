"""The API's commands run as a user would: integration and signed-url."""

from __future__ import annotations

import re
import sqlite3
import uuid

from tests.e2e.conftest import Cli

ACCESS_KEY = re.compile(r"SWIA[A-Z2-7]{26}")
APP_SECRET = "e2e-app-secret-4f1c9a7d2b"


def stored_integrations(cli: Cli) -> list[sqlite3.Row]:
    connection = sqlite3.connect(cli.folder / "var" / "external-orders.db")
    connection.row_factory = sqlite3.Row
    return connection.execute("SELECT * FROM integration").fetchall()


def test_integration_create_prints_the_secret_once_and_keeps_a_hash(
    cli: Cli,
) -> None:
    """create --json shows accessKeyId and secretAccessKey; the table a hash."""
    created = cli.json("integration", "create", "--label", "support")

    assert ACCESS_KEY.fullmatch(created["accessKeyId"])
    assert len(created["secretAccessKey"]) >= 40
    [row] = stored_integrations(cli)
    assert row["secret_hash"].startswith("$argon2id$")
    assert created["secretAccessKey"] not in row["secret_hash"]
    listed = cli("integration", "list", "--json")
    assert created["secretAccessKey"] not in listed.stdout
    log = cli.folder / "var" / "log" / "external-orders.log"
    assert not log.exists() or created["secretAccessKey"] not in log.read_text()


def test_integration_create_without_json_prints_both_keys(cli: Cli) -> None:
    """The plain output names the access key id and the secret, and warns."""
    done = cli("integration", "create", "--label", "ops")

    assert done.returncode == 0
    assert re.search(r"accessKeyId: SWIA[A-Z2-7]{26}", done.stdout)
    assert "secretAccessKey: " in done.stdout
    assert "only its hash is kept" in done.stdout


def test_integration_list_and_revoke(cli: Cli) -> None:
    """revoke by access key or id marks it revoked; a second revoke says so."""
    first = cli.json("integration", "create", "--label", "one")
    second = cli.json("integration", "create", "--label", "two")

    by_key = cli("integration", "revoke", first["accessKeyId"])
    by_id = cli("integration", "revoke", str(uuid.UUID(second["id"])))
    again = cli("integration", "revoke", first["accessKeyId"])
    listed = {entry["label"]: entry for entry in cli.json("integration", "list")}

    assert (by_key.returncode, by_id.returncode, again.returncode) == (0, 0, 0)
    assert "already revoked" in again.stdout
    assert listed["one"]["revokedAt"] and listed["two"]["revokedAt"]


def test_integration_errors_are_one_line(cli: Cli) -> None:
    """Unknown integration and empty label: one Error line, non-zero exit."""
    unknown = cli("integration", "revoke", "SWIA" + "A" * 26)
    empty = cli("integration", "create", "--label", "  ")

    assert unknown.returncode != 0
    assert unknown.stderr.startswith("Error: integration") and "not found" in (
        unknown.stderr
    )
    assert empty.returncode == 2
    assert empty.stderr.strip().count("\n") == 0


def test_signed_url_prints_a_link_under_the_public_url(cli: Cli) -> None:
    """The URL alone is on stdout, under EXTERNAL_ORDERS_PUBLIC_URL."""
    cli.env.update(
        EXTERNAL_ORDERS_APP_SECRET=APP_SECRET,
        EXTERNAL_ORDERS_PUBLIC_URL="https://orders.example/",
    )
    export_id = uuid.uuid4().hex

    done = cli("signed-url", export_id, "--expires-in", "120")
    as_json = cli.json("signed-url", export_id)

    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert line.startswith("https://orders.example/topm-export/")
    assert "(in 120 s)" in done.stderr
    assert as_json["url"].startswith("https://orders.example/topm-export/")
    assert as_json["exportId"] == export_id
    assert (as_json["expiresIn"], as_json["expiresAt"].endswith("Z")) == (600, True)


def test_signed_url_validate_exists_refuses_an_unknown_export(cli: Cli) -> None:
    """--validate-exists fails in one line for an export that is not there."""
    cli.env["EXTERNAL_ORDERS_APP_SECRET"] = APP_SECRET

    done = cli("signed-url", uuid.uuid4().hex, "--validate-exists")

    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith("Error: export") and "not found" in done.stderr


def test_signed_url_needs_the_app_secret(cli: Cli) -> None:
    """Without EXTERNAL_ORDERS_APP_SECRET: exit 5 and why."""
    done = cli("signed-url", uuid.uuid4().hex)

    assert done.returncode == 5
    assert "EXTERNAL_ORDERS_APP_SECRET" in done.stderr


def test_signed_url_refuses_bad_input(cli: Cli) -> None:
    """A malformed export id or a zero lifetime: exit 2, one line."""
    cli.env["EXTERNAL_ORDERS_APP_SECRET"] = APP_SECRET

    malformed = cli("signed-url", "not-an-id")
    zero = cli("signed-url", uuid.uuid4().hex, "--expires-in", "0")

    assert (malformed.returncode, zero.returncode) == (2, 2)
    assert "invalid export id" in malformed.stderr
    assert "Traceback" not in malformed.stderr + zero.stderr
