import uuid

import pytest
from django.conf import settings

from nexusops.celery import app
from nexusops.common.models import WorkerHeartbeat
from nexusops.common.tasks import heartbeat_record
from tests.support.worker import wait_for

pytestmark = pytest.mark.smoke


def test_a_real_worker_process_executes_a_task_through_the_broker(celery_worker):
    assert not app.conf.task_always_eager
    token = uuid.uuid4().hex
    heartbeat_record.delay(token=token)
    row = wait_for(
        lambda: WorkerHeartbeat.objects.filter(token=token).first(),
        timeout=30,
        message="the heartbeat row",
    )
    assert row.hostname.startswith("test-")
    # The broker is the one the suite was pointed at: Redis in CI, the filesystem embedded.
    expected = "redis" if settings.CELERY_BROKER_URL.startswith("redis") else "filesystem"
    assert app.connection_for_write().transport.driver_type == expected


def test_reliability_settings_are_on():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {"default", "notifications", "remediation"}
    if settings.CELERY_BROKER_URL.startswith("redis"):
        vt = conf.broker_transport_options["visibility_timeout"]
        assert vt > conf.task_time_limit and vt > settings.CELERY_MAX_COUNTDOWN
