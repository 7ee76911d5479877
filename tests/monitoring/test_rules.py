"""The console's own alert rules (deploy/prometheus/nexusops-rules.yml): valid for Prometheus,
firing when they should (promtool's unit tests), and naming only what /metrics exports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests import factories

from .scrape import scrape

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "nexusops-rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "nexusops-rules.test.yml"
# PromQL words that are not metric names (the subset these rules may use).
PROMQL = {
    "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "by", "without", "on",
    "ignoring", "and", "or", "unless", "bool", "histogram_quantile", "absent", "time",
}  # fmt: skip


def _rules() -> list[dict]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs Debian's prometheus package")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return found


def test_promtool_accepts_the_rules():
    result = subprocess.run(
        [_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in result.stdout


def test_the_rules_fire_when_their_unit_tests_say():
    result = subprocess.run(
        [_promtool(), "test", "rules", RULE_TESTS.name],
        cwd=RULE_TESTS.parent,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_runbook_thresholds_are_there():
    exprs = {rule["alert"]: " ".join(rule["expr"].split()) for rule in _rules()}
    assert exprs["NexusOpsOutboxStuck"].endswith(
        "nexusops_outbox_oldest_pending_age_seconds) > 120"
    )
    assert exprs["NexusOpsTimersLate"].endswith("nexusops_timers_oldest_lateness_seconds) > 30")
    assert exprs["NexusOpsDeadMessages"] == 'max(nexusops_outbox_messages{state="dead"}) > 0'
    assert exprs["NexusOpsErrorRateHigh"].endswith("> 0.01")


def test_every_rule_is_labelled_and_explained_like_runbook_6_2():
    rules = _rules()
    assert len({r["alert"] for r in rules}) == len(rules)
    for rule in rules:
        # Critical pages (PagerDuty), warning posts (Slack), as runbook 6.2 routes them.
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def _series_in(expr: str) -> list[tuple[str, set[str]]]:
    """(metric name, label names matched) for every selector in a PromQL expression."""
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range durations
    found = []
    for match in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?", expr):
        name, matchers = match.group(1), match.group(2) or ""
        if name in PROMQL:
            continue
        labels = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
        found.append((name, labels))
    return found


@pytest.mark.django_db
def test_every_series_a_rule_reads_is_exported_with_those_labels(client):
    factories.severities()
    client.get("/healthz")  # so the request counter has a sample
    exported = scrape(client)
    label_names: dict[str, set[str]] = {}
    for sample in exported.samples:
        label_names.setdefault(sample.name, set()).update(sample.labels)
    for rule in _rules():
        series = _series_in(rule["expr"])
        assert series, rule["alert"]
        for name, labels in series:
            assert name in label_names, f"{rule['alert']}: /metrics does not export {name}"
            assert labels <= label_names[name], f"{rule['alert']}: {name} has no {labels}"


def test_the_checker_catches_a_misspelt_metric():
    assert _series_in('max(nexusops_outbox_mesages{state="dead"}) > 0') == [
        ("nexusops_outbox_mesages", {"state"})
    ]
