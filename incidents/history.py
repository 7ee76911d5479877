"""Ninety days of past incidents for the demo, so reports, the status page's bars and on-call
load have something to show on the first run (``seed_demo`` only, never production).

Deterministic: the same seed gives the same incidents, dated back from the day it first runs.
Their public status page updates are the status page's to write (``statuspage/history.py``).
Rows are written directly (not through the services) because these incidents are over: nothing
of theirs may reach Slack or PagerDuty. Their numbers use sequences from 901 up, which live
declarations never reach, so a second run finds them and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.contrib.auth import get_user_model

from nexusops.common import clock
from nexusops.common.services import actor_name

from .models import (
    Channel,
    Incident,
    Service,
    Severity,
    Status,
    TimelineEvent,
)

SEED = 20260301
DAYS = 90
FIRST_SEQ = 901  # live numbering starts at 1 each day; history never collides with it

# (severity, services, title, impact words): drawn from the runbook's scenarios (section 3).
SCENARIOS = [
    ("P0", ("api-gateway",), "API gateway returning 502 for all clients", "all clients"),
    ("P0", ("postgresql", "user-service"), "Primary database unreachable", "sign-ups and logins"),
    ("P1", ("auth-service", "redis"), "Logins failing: Redis sessions evicted", "logins"),
    ("P1", ("content-service", "s3"), "Uploads failing with S3 access denied", "uploads"),
    ("P1", ("billing-service",), "Payment webhooks timing out", "checkout"),
    ("P1", ("api-gateway",), "p99 latency above 2 s after deploy", "every request"),
    ("P2", ("notification-service",), "Push notifications delayed 20 minutes", "notifications"),
    ("P2", ("user-service",), "Profile pages slow (pool exhausted)", "profile views"),
    ("P2", ("content-service", "mongodb"), "Feed queries slow on MongoDB", "feeds"),
    ("P2", ("auth-service",), "OAuth with one provider failing", "some logins"),
    ("P3", ("notification-service",), "Digest e-mail has a broken link", "nobody blocked"),
    ("P3", ("api-gateway",), "Rate-limit headers missing on one route", "API clients"),
    ("P3", ("user-service",), "Avatar crop off by a few pixels", "cosmetic"),
]
WEIGHTS = {"P0": 1, "P1": 4, "P2": 8, "P3": 8}
TOTAL = 64


def _minutes(rng: random.Random, low: int, high: int) -> dt.timedelta:
    return dt.timedelta(minutes=rng.randint(low, high))


def history_incidents() -> list[Incident]:
    """The demo's past incidents, oldest first."""
    return list(
        Incident.objects.filter(seq__gte=FIRST_SEQ)
        .select_related("severity", "commander")
        .prefetch_related("services")
        .order_by("detected_at")
    )


def seed_incident_history(say: Callable[[str], None]) -> None:
    if Incident.objects.filter(seq__gte=FIRST_SEQ).exists():
        say(f"incident history: {Incident.objects.filter(seq__gte=FIRST_SEQ).count()} already")
        return
    rng = random.Random(SEED)
    User = get_user_model()
    people = {
        u.username: u for u in User.objects.filter(username__in=["ic", "responder", "manager"])
    }
    if len(people) < 3:
        say("incident history: skipped (demo users missing)")
        return
    severities = {s.code: s for s in Severity.objects.all()}
    services = {s.slug: s for s in Service.objects.all()}
    today = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    weighted = [s for s in SCENARIOS for _ in range(WEIGHTS[s[0]])]
    made = 0
    for n in range(TOTAL):
        code, slugs, title, impact = rng.choice(weighted)
        if code not in severities or not all(s in services for s in slugs):
            continue
        day = today - dt.timedelta(days=DAYS - (n * DAYS) // TOTAL)
        detected = day + _minutes(rng, 0, 23 * 60)
        _one(
            rng,
            number_seq=FIRST_SEQ + n,
            severity=severities[code],
            rows=[services[s] for s in slugs],
            title=title,
            impact=impact,
            detected=detected,
            people=people,
        )
        made += 1
    say(f"incident history: {made} closed incidents over the past {DAYS} days")


def _one(
    rng: random.Random,
    *,
    number_seq: int,
    severity: Severity,
    rows: list[Service],
    title: str,
    impact: str,
    detected: dt.datetime,
    people: dict,
) -> Incident:
    response = severity.response_time
    slow = rng.random() < 0.15  # some acknowledgements miss the SLA, as in life
    ack_after = response * (rng.uniform(1.1, 1.8) if slow else rng.uniform(0.1, 0.8))
    acknowledged = detected + ack_after
    first_update = acknowledged + _minutes(rng, 2, 25)
    mitigated = acknowledged + _minutes(rng, 10, 120 if severity.code in ("P0", "P1") else 600)
    resolved = mitigated + _minutes(rng, 5, 90)
    monitoring = resolved + _minutes(rng, 1, 10)
    closed = monitoring + _minutes(rng, 30, 240)
    commander = people["ic"] if rng.random() < 0.7 else people["manager"]
    breached = slow or (
        severity.first_update_within is not None
        and first_update > detected + severity.first_update_within
    )
    incident = Incident.objects.create(
        number=f"INC-{detected:%Y%m%d}-{number_seq}",
        day=detected.date(),
        seq=number_seq,
        title=title,
        summary=f"Past incident: {title.lower()}.",
        severity=severity,
        status=Status.CLOSED,
        impact_description=f"Affected {impact}.",
        impact_percent=rng.choice([None, 2, 5, 15, 40]) if severity.code != "P3" else None,
        commander=commander,
        created_by=commander,
        source=rng.choice([Channel.WEB, Channel.ALERT, Channel.SLACK]),
        detected_at=detected,
        acknowledged_at=acknowledged,
        investigating_at=acknowledged + _minutes(rng, 1, 5),
        mitigated_at=mitigated,
        resolved_at=resolved,
        monitoring_started_at=monitoring,
        closed_at=closed,
        first_update_at=first_update,
        sla_breached=breached,
        version=8,
    )
    incident.services.set(rows)
    incident.responders.set([people["responder"]])
    _timeline(rng, incident, commander, people["responder"], slow)
    return incident


def _event(
    incident: Incident, kind: str, at: dt.datetime, message: str, actor=None, **kw
) -> TimelineEvent:  # noqa: ANN001, E501
    return TimelineEvent(
        incident=incident,
        kind=kind,
        actor=actor,
        actor_name=actor_name(actor),
        channel=Channel.WEB if actor else Channel.SYSTEM,
        message=message,
        created_at=at,
        **kw,
    )


def _timeline(rng: random.Random, inc: Incident, commander, responder, slow: bool) -> None:  # noqa: ANN001
    sev = inc.severity
    took = int((inc.acknowledged_at - inc.detected_at).total_seconds() // 60)
    events = [
        _event(inc, "declared", inc.detected_at, f"Declared {sev.code}: {inc.title}.", commander),
    ]
    if slow:
        events.append(
            _event(
                inc,
                "sla_breached",
                inc.detected_at + sev.response_time,
                f"SLA breached: not acknowledged within {sev.code}'s response time.",
                data={"sla": "ack_deadline"},
            )
        )
        events.append(
            _event(
                inc,
                "escalated",
                inc.detected_at + sev.response_time,
                f"Escalated to tier 2 (Engineering manager): paged Maya via PagerDuty — "
                f"not acknowledged within {sev.code}'s response time.",
                data={"tier": 2, "paged": [], "history": True},
            )
        )
    events += [
        _event(
            inc,
            "status_changed",
            inc.acknowledged_at,
            f"Acknowledged {took} min after detection.",
            responder,
            data={"action": "acknowledge"},
        ),  # fmt: skip
        _event(
            inc,
            "status_changed",
            inc.investigating_at,
            "Investigating: assessing severity, affected systems and impact.",
            commander,
            data={"action": "investigate"},
        ),  # fmt: skip
        _event(
            inc,
            "update",
            inc.first_update_at,
            f"We are investigating {inc.impact_description.lower()}",
            commander,
        ),  # fmt: skip
        _event(
            inc,
            "note",
            inc.first_update_at + dt.timedelta(minutes=3),
            rng.choice(
                [
                    "Rolled back the last deploy.",
                    "Scaled the deployment to 6 replicas.",
                    "Restarted the pods; error rate dropping.",
                    "Failover to the replica done.",
                ]
            ),
            responder,
            visibility=TimelineEvent.Visibility.INTERNAL,
        ),  # fmt: skip
        _event(
            inc,
            "status_changed",
            inc.mitigated_at,
            "Mitigated: a fix or workaround is in place.",
            commander,
            data={"action": "mitigate"},
        ),  # fmt: skip
        _event(
            inc,
            "status_changed",
            inc.resolved_at,
            "Resolved: the issue is verified fixed.",
            commander,
            data={"action": "resolve"},
        ),  # fmt: skip
        _event(
            inc,
            "status_changed",
            inc.monitoring_started_at,
            "Monitoring.",
            commander,
            data={"action": "monitor"},
        ),  # fmt: skip
        _event(
            inc, "status_changed", inc.closed_at, "Closed.", commander, data={"action": "close"}
        ),
    ]
    created = TimelineEvent.objects.bulk_create(events)
    Incident.objects.filter(pk=inc.pk).update(last_event_id=max(e.pk for e in created))
