"""Which ``AlertRule`` an alert falls under (runbook 6.2 as rows).

Rules are tried in order; the first that matches wins. A rule matches when every one of its
``match_labels`` matchers holds (equal, one of, regular expression, not equal: as
Alertmanager's), its ``metric`` (if any) is the alert's, and, when the alert carries a value,
the value passes the threshold. Without a value the sender already judged the threshold, so
its own severity label picks between the rules of that metric. Real Alertmanager alerts carry
no ``metric`` label: the label-only rules (alertname, severity) route them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from decimal import Decimal

from ..models import AlertRule

SERVICE_LABELS = ("service", "service_name", "app", "job")
KNOWN_SERVICE_LABELS = (
    "service",
    "service_name",
    "app",
    "app_kubernetes_io_name",
    "app.kubernetes.io/name",
    "deployment",
    "statefulset",
    "container",
    "job",
    "pod",
)
POD_SUFFIX = re.compile(r"-[a-z0-9]{5,10}-[a-z0-9]{5}$")  # deployment-<replicaset>-<pod>
STATEFUL_SUFFIX = re.compile(r"-\d+$")  # statefulset-0


def _labels_match(rule: AlertRule, labels: dict[str, str]) -> bool:
    return all(
        label_matches(wanted, labels.get(name))
        for name, wanted in (rule.match_labels or {}).items()
    )


def label_matches(wanted: object, value: str | None) -> bool:
    """One matcher, as Alertmanager's ``=``, ``=~`` and ``!=``: ``"*"`` present; a list,
    one of; ``"~re"`` the whole value matches ``re``; ``"!x"`` absent or not ``x``."""
    if isinstance(wanted, list):
        return value is not None and value in [str(w) for w in wanted]
    wanted = str(wanted)
    if wanted.startswith("!"):
        return value != wanted[1:]
    if value is None:
        return False
    if wanted == "*":
        return True
    if wanted.startswith("~"):
        return _regex(wanted[1:]).fullmatch(value) is not None
    return value == wanted


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _passes(rule: AlertRule, value: float) -> bool:
    if rule.threshold is None:
        return True
    number = Decimal(repr(value))
    limit = rule.threshold
    if rule.operator == AlertRule.Operator.GTE:
        return number >= limit
    if rule.operator == AlertRule.Operator.LT:
        return number < limit
    return number > limit


def rule_match(rules: list[AlertRule], data: dict) -> AlertRule | None:
    labels = data.get("labels") or {}
    metric = data.get("metric") or ""
    value = data.get("value")
    hint = data.get("level_hint") or ""
    default = None
    # A value for a metric the runbook's thresholds judge is theirs to judge: rules that only
    # look at labels (e.g. the sender's own severity) do not overrule them.
    judged = value is not None and any(
        r.metric == metric and r.threshold is not None for r in rules if r.metric
    )
    for rule in rules:
        if rule.is_default:
            default = default or rule
            continue
        if rule.metric and rule.metric != metric:
            continue
        if judged and not rule.metric:
            continue
        if not _labels_match(rule, labels):
            continue
        if value is not None:
            if _passes(rule, value):
                return rule
            continue
        if rule.threshold is None or not hint or hint == rule.level:
            return rule
    return default


def service_of(labels: dict[str, str], *, known: Collection[str] = ()) -> str:
    """The NEXUS service an alert is about.

    Real payloads name it in many labels (Prometheus/Kubernetes: ``service``, ``job``,
    ``deployment``, ``pod``, ``app.kubernetes.io/name``...; ``namespace`` is an environment,
    not a service). With ``known`` slugs, the first label naming a known service wins (a pod's
    ``api-gateway-7f9c6d5b8-x2x9q`` is ``api-gateway``); otherwise the first service-ish label.
    """
    if known:
        for name in KNOWN_SERVICE_LABELS:
            for candidate in _candidates(labels.get(name) or ""):
                if candidate in known:
                    return candidate
    for name in SERVICE_LABELS:
        if labels.get(name):
            return labels[name][:100]
    return ""


def _candidates(value: str) -> list[str]:
    value = value.strip().lower()
    if not value:
        return []
    out = [value, value.rsplit("/", 1)[-1]]  # a job is often "namespace/name"
    for pattern in (POD_SUFFIX, STATEFUL_SUFFIX):
        trimmed = pattern.sub("", out[-1])
        if trimmed != out[-1]:
            out.append(trimmed)
    return out
