"""The ingest answers 503 (never 2xx) when the database cannot take the alert."""

import json

from django.conf import settings

from tests.support.subproc import run_django

from .conftest import T0
from .payloads import alertmanager, am_alert


def test_ingest_is_503_when_the_database_is_down(tmp_path):
    body = json.dumps(alertmanager(am_alert(starts=T0)))
    code = (
        "import json\n"
        "from django.test import Client\n"
        f"r = Client().post('/api/alerts/alertmanager/', data={body!r}, "
        "content_type='application/json', HTTP_AUTHORIZATION='Bearer nxa_abc_def')\n"
        "print(r.status_code)\nprint(r['Retry-After'])\nprint(json.dumps(r.json()))\n"
    )
    result = run_django(
        code,
        {
            "NEXUSOPS_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        },
    )
    assert result.returncode == 0, result.stderr
    status, retry_after, payload = result.stdout.strip().splitlines()[-3:]
    assert status == "503" and retry_after == "5"
    assert "not recorded" in json.loads(payload)["error"]["message"]
