"""Issue 14 item 10: everything under /api/ answers the JSON error shape.

While PostgreSQL is down, an API call answers 503 with Retry-After (the client can retry), not
Django's HTML 500 page. A child process points DATABASE_URL at a closed port: settings are read
at import, so this is the only honest way to have a database that is really down.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from tests.support.subproc import run_django

_CALLS = (
    "import json\n"
    "from django.test import Client\n"
    "def show(r):\n"
    "    print(json.dumps({'status': r.status_code, 'retry': r.get('Retry-After'),\n"
    "        'type': r.get('Content-Type'), 'body': r.content.decode()[:2000]}))\n"
    "c = Client(raise_request_exception=False)\n"
    "show(c.get('/api/incidents/', HTTP_AUTHORIZATION='Token abcdef'))\n"
    "c.cookies['sessionid'] = 'x' * 32\n"
    "show(c.patch('/api/incidents/INC-20260101-001/', data='{}',\n"
    "    content_type='application/json'))\n"
)


@pytest.mark.parametrize("debug", ["True", "False"])
def test_api_answers_503_json_with_retry_after_while_the_database_is_down(tmp_path, debug):
    result = run_django(
        _CALLS,
        {
            "NEXUSOPS_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "DEBUG": debug,
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = [json.loads(line) for line in result.stdout.strip().splitlines()[-2:]]
    for answer in answers:
        assert answer["status"] == 503, answer
        assert answer["retry"] == "5"
        assert answer["type"] == "application/json"
        error = json.loads(answer["body"])["error"]
        assert error["code"] == "unavailable" and "Retry" in error["message"]


@pytest.mark.django_db
def test_an_unknown_api_url_answers_the_json_404(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    page = client.get("/no-such-page/")  # pages keep their HTML
    assert page["Content-Type"].startswith("text/html")
