"""Starting a process loads no vendor SDK (issue 15: a relaunched sweeper's start-up was most
of its recovery, and the SDKs were most of the start-up).

The adapters in ``nexusops/integrations`` import their client library where a client is built
or a call is made; registering the remediation actions, the senders and the handler tables
must not. Each case runs in a fresh interpreter: this test process imported them long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

# The vendor libraries behind the adapters (and what only they pull in).
SDKS = (
    "boto3",
    "botocore",
    "s3transfer",
    "kubernetes",
    "pymongo",
    "bson",
    "stripe",
    "sendgrid",
    "python_http_client",
    "slack_sdk",
    "pagerduty",
    "redis",
    "requests",
    "jwt",
    "aiohttp",
)

PROBE = """
import json, sys
sdks = sys.argv[1:]
loaded = lambda: sorted(m for m in sdks if m in sys.modules)
import django
django.setup()
found = {"setup": loaded()}
from remediation import actions
found["actions"] = len(actions.all_actions())
from nexusops.engine import events, timers
events.tables()
found["handlers"] = loaded()
# What `celery worker` and `celery beat` do before they take work: import every task module.
from nexusops.celery import app
app.loader.import_default_modules()
app.finalize()
found["worker"] = loaded()
found["tasks"] = len([name for name in app.tasks if not name.startswith("celery.")])
print(json.dumps(found))
"""


def _probe() -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
    env.pop("CELERY_SKIP_CHECKS", None)  # the default, as a worker started by hand has it
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *SDKS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_setup_the_handler_tables_and_a_worker_boot_load_no_vendor_sdk():
    found = _probe()
    # Import it where the client is built (see nexusops/integrations/aws/connection.py).
    assert found["setup"] == [], "django.setup() imported these SDKs"
    assert found["handlers"] == [], "the handler tables imported these SDKs"
    assert found["worker"] == [], "a worker's task modules (or its start-up checks) imported these"
    # ...and yet everything is registered.
    assert found["actions"] > 30
    assert found["tasks"] > 10
