"""Approving an override while the beat sweep reads who is on call (PostgreSQL).

Each round has Cora's override for the window around now waiting for approval while tier 1
(whoever is on call) falls due. A manager approves it as the sweep fires the tier, in two
threads with their own connections. Whichever commits first, the sweep pages exactly one
person, Olga (the rotation's) or Cora (the override's), never both and never nobody; the
approval always commits; and afterwards Cora is on call. Two people deciding one override at
once: one decision holds, the other is told it was already decided.
"""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.models import TimelineEvent
from nexusops.common import clock, roles
from nexusops.common.errors import Conflict
from nexusops.engine.timers import timers_sweep
from oncall import schedule
from oncall.models import Rotation, RotationMember, RotationOverride
from oncall.services import override_create, override_decide
from tests.factories import UserFactory, incident
from tests.incidents.services.test_timers_lock_order import race
from tests.oncall.conftest import person, runbook_policy

T0 = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)
ROUNDS = 12


@pytest.fixture
def org(transactional_db, settings, slack, pagerduty):
    settings.PAGERDUTY_SERVICE_ID = "PSVC001"
    olga = person("olga", pd="POLGA01", slack="U0OLGA", role=roles.RESPONDER)
    cora = person("cora", pd="PCORA01", slack="U0CORA", role=roles.RESPONDER)
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    RotationMember.objects.create(rotation=rotation, user=olga, position=0)
    runbook_policy()
    return {
        "olga": olga,
        "cora": cora,
        "rotation": rotation,
        "asker": UserFactory(username="maya", role=roles.MANAGER),
        "approver": UserFactory(username="max", role=roles.MANAGER),
        "ic": UserFactory(username="iris", role=roles.INCIDENT_COMMANDER),
    }


@pytest.mark.postgres
def test_approving_while_the_sweep_pages_whoever_is_on_call(org):
    olga, cora, rotation = org["olga"], org["cora"], org["rotation"]
    outcomes = {"olga": 0, "cora": 0}
    for i in range(ROUNDS):
        now = T0 + dt.timedelta(days=2 * i)
        with clock.frozen(now):
            asked = override_create(
                rotation=rotation,
                user=cora,
                starts_at=now - dt.timedelta(hours=1),
                ends_at=now + dt.timedelta(hours=6),
                actor=org["asker"],
            )
            assert schedule.on_call_at(rotation, now) == olga
            inc = incident(title=f"race {i}", severity_code="P1", actor=org["ic"])
            errors = race(
                lambda asked=asked: override_decide(
                    override=asked.pk, actor=org["approver"], approve=True
                ),
                timers_sweep,
            )
            assert errors == [], f"round {i}: {errors!r}"
            assert RotationOverride.objects.get(pk=asked.pk).state == "approved"
            assert schedule.on_call_at(rotation, now) == cora
            tier1 = list(TimelineEvent.objects.filter(incident=inc, kind="escalated", data__tier=1))
            assert len(tier1) == 1, f"round {i}: tier 1 fired {len(tier1)} times"
            paged = tier1[0].data["paged"]
            assert paged in ([olga.pk], [cora.pk]), f"round {i}: paged {paged}"
            outcomes["olga" if paged == [olga.pk] else "cora"] += 1
    print(outcomes)


@pytest.mark.postgres
def test_two_people_deciding_at_once_one_decision_holds(org):
    rotation, cora = org["rotation"], org["cora"]
    refuser = UserFactory(username="mona", role=roles.MANAGER)
    for i in range(ROUNDS):
        start = T0 + dt.timedelta(days=2 * i)
        asked = override_create(
            rotation=rotation,
            user=cora,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=6),
            actor=org["asker"],
        )
        errors = race(
            lambda pk=asked.pk: override_decide(override=pk, actor=org["approver"], approve=True),
            lambda pk=asked.pk: override_decide(override=pk, actor=refuser, approve=False),
        )
        assert len(errors) == 1 and isinstance(errors[0], Conflict), f"round {i}: {errors!r}"
        decided = RotationOverride.objects.get(pk=asked.pk)
        assert (decided.state, decided.decided_by_id) in (
            ("approved", org["approver"].pk),
            ("refused", refuser.pk),
        )
        assert (decided.approved_by_id is not None) == (decided.state == "approved")
