"""Ninety days of past deployments for the demo: a few a day, some failed, a few rolled back,
hotfixes tied to past incidents, and the past monthly maintenance windows, so DORA and the
deployment log show real figures on the first run (``seed_demo`` only)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from incidents.history import DAYS, history_incidents
from incidents.models import Service
from nexusops.common import clock

from .models import Deployment, DeploymentIncident, Kind, MaintenanceWindow, Status

SEED = 20260303
SOURCE = "history"


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(48):012x}"


def seed_deployment_history(say: Callable[[str], None]) -> None:
    if Deployment.objects.filter(source=SOURCE).exists():
        return
    rng = random.Random(SEED)
    services = list(Service.objects.filter(kind=Service.Kind.SERVICE).order_by("slug"))
    if not services:
        return
    today = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    versions = dict.fromkeys((s.slug for s in services), 0)
    last: dict[str, Deployment] = {}
    made = failed = rolled = 0
    for back in range(DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() >= 5 and rng.random() < 0.8:
            continue  # quiet weekends
        for _ in range(rng.randint(0, 3)):
            service = rng.choice(services)
            versions[service.slug] += 1
            at = day + dt.timedelta(hours=rng.randint(15, 23), minutes=rng.randint(0, 59))
            bad = rng.random() < 0.08
            status = Status.FAILED if bad else Status.SUCCEEDED
            deployment = _deploy(rng, service, versions[service.slug], at, status, last)
            made += 1
            if bad:
                failed += 1
                if rng.random() < 0.6:
                    _rollback(rng, deployment, service, at)
                    rolled += 1
            last[service.slug] = deployment
    hotfixes = _hotfixes(rng)
    windows = _past_windows(today)
    say(
        f"deployment history: {made} deployments ({failed} failed, {rolled} rolled back), "
        f"{hotfixes} hotfixes, {windows} past maintenance windows"
    )


def _deploy(rng, service, n: int, at, status, last, kind=Kind.NORMAL) -> Deployment:  # noqa: ANN001
    previous = last.get(service.slug)
    deployment = Deployment.objects.create(
        environment="production",
        version=f"v2.{n // 10}.{n % 10}",
        git_sha=_sha(rng),
        previous_sha=previous.git_sha if previous else "",
        deployer_name=rng.choice(["ci", "ci", "argocd"]),
        kind=kind,
        status=status,
        reported_status=status,
        started_at=at,
        finished_at=at + dt.timedelta(minutes=rng.randint(3, 12)),
        k8s_deployment=service.slug,
        argocd_app=f"nexus-{service.slug}",
        source=SOURCE,
        created_at=at,
    )
    deployment.services.set([service])
    return deployment


def _rollback(rng, deployment: Deployment, service, at) -> None:  # noqa: ANN001
    Deployment.objects.filter(pk=deployment.pk).update(status=Status.ROLLED_BACK)
    back = Deployment.objects.create(
        environment="production",
        version=f"{deployment.version}-rollback",
        git_sha=deployment.previous_sha or _sha(rng),
        previous_sha=deployment.git_sha,
        deployer_name="ic",
        kind=Kind.ROLLBACK,
        rollback_of=deployment,
        status=Status.SUCCEEDED,
        started_at=at + dt.timedelta(minutes=20),
        finished_at=at + dt.timedelta(minutes=26),
        k8s_deployment=service.slug,
        source=SOURCE,
        created_at=at + dt.timedelta(minutes=20),
    )
    back.services.set([service])


def _hotfixes(rng: random.Random) -> int:
    """A hotfix shipped during some past P0/P1s, linked to the incident it fixed."""
    count = 0
    for incident in history_incidents():
        if incident.severity.code not in ("P0", "P1") or rng.random() < 0.5:
            continue
        service = incident.services.filter(kind=Service.Kind.SERVICE).first()
        if service is None:
            continue
        at = incident.mitigated_at - dt.timedelta(minutes=5)
        hotfix = _deploy(rng, service, 900 + count, at, Status.SUCCEEDED, {}, kind=Kind.HOTFIX)
        Deployment.objects.filter(pk=hotfix.pk).update(incident=incident)
        # The change that caused it: the service's last deployment before detection.
        cause = (
            Deployment.objects.filter(
                services=service, kind=Kind.NORMAL, started_at__lt=incident.detected_at
            )
            .order_by("-started_at")
            .first()
        )
        if cause is not None:
            DeploymentIncident.objects.get_or_create(
                deployment=cause,
                incident=incident,
                defaults={"linked_at": incident.resolved_at, "reason": "released just before"},
            )
        count += 1
    return count


def _past_windows(today: dt.datetime) -> int:
    """The first-Sunday windows of the past three months, done (runbook 7)."""
    made = 0
    for months_back in (3, 2, 1):
        year, month = today.year, today.month - months_back
        while month < 1:
            year, month = year - 1, month + 12
        first = dt.date(year, month, 1)
        sunday = first + dt.timedelta(days=(6 - first.weekday()) % 7)
        starts = dt.datetime.combine(sunday, dt.time(2), dt.UTC)
        _, created = MaintenanceWindow.objects.get_or_create(
            starts_at=starts,
            defaults={
                "title": f"Monthly maintenance {sunday:%B %Y}",
                "ends_at": starts + dt.timedelta(hours=4),
                "status": MaintenanceWindow.Status.COMPLETED,
                "public_note": "Database and cluster upgrades; short interruptions possible.",
                "generated": True,
                "notice_sent_at": starts - dt.timedelta(days=7),
                "created_at": starts - dt.timedelta(days=30),
            },
        )
        made += created
    return made
