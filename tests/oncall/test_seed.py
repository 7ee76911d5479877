import datetime as dt

from incidents import seed as incidents_seed
from nexusops.engine.models import Timer
from oncall import schedule, seed
from oncall.models import EscalationPolicy, PayPolicy, Rotation
from tests.factories import severities


def test_seeders_are_idempotent_and_follow_the_runbook(db):
    severities()
    for _ in range(2):
        incidents_seed.seed_users(lambda s: None)
        seed.seed_escalation(lambda s: None)
        seed.seed_rotation(lambda s: None)
    policy = EscalationPolicy.objects.get()
    tiers = [(t.order, t.target, t.org_role, t.delay) for t in policy.tiers.all()]
    assert tiers[1] == (2, "org_role", "engineering_manager", dt.timedelta(hours=1))
    assert sorted(policy.tiers.get(order=3).severities.values_list("code", flat=True)) == ["P0"]
    assert PayPolicy.objects.get().weekly_stipend == 500
    rotation = Rotation.objects.get()
    assert [m.user.username for m in rotation.members.all()] == ["ic", "responder", "manager"]
    assert schedule.handoff_at(rotation, 0) == dt.datetime(2026, 1, 2, 17, 0, tzinfo=dt.UTC)
    pending = Timer.objects.filter(kind="oncall_handoff", fired_at__isnull=True, cancelled_at=None)
    assert pending.count() == 1
