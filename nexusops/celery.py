"""The Celery app. Reliability first: late acks, no prefetch hoarding, lost workers requeue.

Queues: ``notifications`` (PagerDuty, Slack, status page, email), ``remediation`` (cluster
and cloud actions) and ``default`` (sweeps and everything else), so a Slack outage never
stalls a rollback. Every setting lives in ``settings.py`` under the ``CELERY_`` prefix.
"""

from __future__ import annotations

import os

from celery import Celery, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexusops.settings")
# Celery's Django fixup runs every system check when a worker or beat starts, which imports
# the URLconf and so every view (SAML, PDF export, the API schema): about a second of CPU
# before a restarted worker sweeps a timer (issue 15). `manage.py migrate` runs the same
# checks before any worker starts (docker-compose, the Kubernetes migrate job, `make run`);
# set CELERY_SKIP_CHECKS= (empty) to run them in the worker too.
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("nexusops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("notifications"), Queue("remediation"))
app.autodiscover_tasks()
# Sub-packages of apps with tasks of their own (missing modules are skipped).
app.autodiscover_tasks(["chat.inbound"])


def _connect_log_context() -> None:
    # A task's log lines carry the request id and incident of the work that published it.
    from nexusops.common import logs

    signals.before_task_publish.connect(logs.celery_before_publish, weak=False)
    signals.task_prerun.connect(logs.celery_task_prerun, weak=False)
    signals.task_postrun.connect(logs.celery_task_postrun, weak=False)


_connect_log_context()
