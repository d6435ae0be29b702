"""The shipped Prometheus and Alertmanager files, checked by their own tools.

promtool and amtool come from Debian's prometheus and prometheus-alertmanager
packages (``.ci/run`` installs them); without them these tests are skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    return subprocess.run(
        [tool, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_alert_rules_are_valid() -> None:
    """promtool accepts deploy/prometheus/alerts.yml."""
    done = run("promtool", "check", "rules", str(DEPLOY / "prometheus/alerts.yml"))

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_alert_rules_meet_the_runbook_thresholds_and_durations() -> None:
    """promtool's rule tests: 10/30, 10 minutes overdue, 15 minutes of outage."""
    done = run("promtool", "test", "rules", str(DEPLOY / "prometheus/alerts_test.yml"))

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_prometheus_configuration_is_valid() -> None:
    """promtool accepts the example prometheus.yml and the rules it loads."""
    done = run("promtool", "check", "config", str(DEPLOY / "prometheus/prometheus.yml"))

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_alertmanager_configuration_is_valid() -> None:
    """amtool accepts deploy/alertmanager/alertmanager.yml."""
    config = str(DEPLOY / "alertmanager/alertmanager.yml")

    done = run("amtool", "check-config", config)

    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("severity", ["warning", "critical"])
def test_every_alert_goes_to_mail_and_slack(severity: str) -> None:
    """Warning and critical both reach the mail receiver and #incident-topm."""
    config = f"--config.file={DEPLOY / 'alertmanager/alertmanager.yml'}"
    labels = ["service=ExternalOrders", f"severity={severity}", "alertname=X"]

    done = run("amtool", "config", "routes", "test", config, *labels)

    assert done.stdout.strip() == "support-and-oncall-mail,slack-incident-topm"
