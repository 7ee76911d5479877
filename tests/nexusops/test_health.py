import pytest
from django.conf import settings

from tests.support.subproc import run_django

pytestmark = pytest.mark.smoke


def test_healthz_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def _readyz_in_child(env: dict[str, str]) -> tuple[int, dict]:
    code = (
        "import json\n"
        "from django.test import Client\n"
        "r = Client().get('/readyz')\n"
        "print(r.status_code)\nprint(json.dumps(r.json()))\n"
    )
    result = run_django(code, env)
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-2:]
    import json

    return int(status), json.loads(body)


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(tmp_path):
    status, body = _readyz_in_child(
        {
            "NEXUSOPS_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        }
    )
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("database unreachable")
    assert body["checks"]["broker"] == "ok"


def test_readyz_is_503_naming_the_broker_when_it_is_unreachable(tmp_path):
    status, body = _readyz_in_child(
        {
            "NEXUSOPS_VAR_DIR": str(tmp_path),
            "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        }
    )
    assert status == 503
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("broker unreachable")
