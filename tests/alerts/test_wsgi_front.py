"""The WSGI front (alerts/wsgi.py) answers the webhooks exactly as Django's handler would:
same status, headers (in the same order) and body, for every refusal and for an accepted alert,
and it records the same rows. Each case is sent to both through WSGI, as a server calls them."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

from alerts.models import AlertEvent, AlertSource
from alerts.wsgi import IntakeFront
from nexusops.common import metrics
from tests.support.subproc import run_django

from .conftest import T0
from .payloads import alertmanager, am_alert

# Transactional: the webhooks' rows go through the group commit's own connection, as served.
pytestmark = pytest.mark.django_db(transaction=True)


def _apps() -> tuple[IntakeFront, WSGIHandler]:
    """Fresh, as a server builds them: the middleware reads the settings of the moment."""
    django = WSGIHandler()
    return IntakeFront(django), django


def _environ(
    path: str,
    body: bytes = b"",
    *,
    method: str = "POST",
    token: str | None = None,
    content_type: str | None = "application/json",
    content_length: str | None = None,
    **extra: str,
) -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **extra,
    }
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    if token is not None:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def _call(app, env: dict) -> tuple[str, list[tuple[str, str]], bytes]:  # noqa: ANN001
    seen: list = []
    result = app(env, lambda status, headers, exc_info=None: seen.extend([status, headers]))
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return seen[0], list(seen[1]), body


def _both(path: str, body: bytes = b"", **kw) -> tuple:  # noqa: ANN003
    """The front's answer and Django's, the request id left out (each request gets its own)."""
    answers = []
    for app in _apps():
        status, headers, content = _call(app, _environ(path, body, **kw))
        ids = [v for k, v in headers if k == "X-Request-ID"]
        assert len(ids) == 1 and ids[0]
        answers.append((status, [(k, v) for k, v in headers if k != "X-Request-ID"], content))
    return answers[0], answers[1]


GENERIC = "/api/alerts/generic/"
ONE = json.dumps({"dedup_key": "front", "id": "front-1", "title": "t", "value": 3}).encode()


@pytest.mark.parametrize(
    ("case", "kw", "status"),
    [
        ("no token", {}, "401 Unauthorized"),
        ("malformed token", {"token": "nope"}, "401 Unauthorized"),
        ("unknown token", {"token": "nxa_abcdef_wrong"}, "401 Unauthorized"),
        ("Basic, not base64", {"HTTP_AUTHORIZATION": "Basic !!!"}, "401 Unauthorized"),
        ("other kind's token", {"token": "alertmanager"}, "403 Forbidden"),
        ("GET", {"method": "GET", "token": "generic"}, "405 Method Not Allowed"),
        ("PUT", {"method": "PUT", "token": "generic"}, "405 Method Not Allowed"),
        ("lower-case post", {"method": "post", "token": "generic"}, "202 Accepted"),
        ("bad Content-Length", {"token": "generic", "content_length": "x"}, "400 Bad Request"),
        ("huge Content-Length", {"token": "generic", "content_length": "99999999"}, "413"),
        ("no Content-Type", {"token": "generic", "content_type": None}, "415"),
        ("text/plain", {"token": "generic", "content_type": "text/plain"}, "415"),
        (
            "JSON, charset",
            {"token": "generic", "content_type": "Application/JSON; charset=x"},
            "202",
        ),
        ("accepted", {"token": "generic"}, "202 Accepted"),
        ("request id kept", {"token": "generic", "HTTP_X_REQUEST_ID": "abc-1"}, "202"),
    ],
)
def test_the_front_answers_as_django_does(tokens, case, kw, status):
    if kw.get("token") in tokens:
        kw["token"] = tokens[kw["token"]]
    front, django = _both(GENERIC, ONE, **kw)
    assert front == django, case
    assert front[0].startswith(status)
    assert ("Content-Length", str(len(front[2]))) in front[1]


@pytest.mark.parametrize(
    ("case", "body", "status"),
    [
        ("bad JSON", b'{"dedup_key": ', "400"),
        ("not UTF-8", b'{"title": "\xff"}', "400"),
        ("NaN", b'{"dedup_key": "k", "title": "t", "value": NaN}', "400"),
        ("empty body", b"", "400"),
        ("not an object", b"[1, 2]", "400"),
        ("accepted", ONE, "202"),
    ],
)
def test_bad_bodies_get_the_same_refusal(tokens, case, body, status):
    front, django = _both(GENERIC, body, token=tokens["generic"])
    assert front == django, case
    assert front[0].startswith(status)


def test_a_body_over_the_sources_limit_gets_the_same_413(tokens):
    AlertSource.objects.filter(kind="generic").update(max_body_bytes=1024)
    body = json.dumps({"dedup_key": "big", "title": "x" * 2000}).encode()
    front, django = _both(GENERIC, body, token=tokens["generic"])
    assert front == django
    assert front[0] == "413 Request Entity Too Large"
    assert "over 1024 bytes" in json.loads(front[2])["error"]["message"]
    assert not AlertEvent.objects.exists()


def test_basic_auth_and_alertmanager_are_answered_alike(tokens):
    basic = base64.b64encode(f"prometheus:{tokens['alertmanager']}".encode()).decode()
    body = json.dumps(alertmanager(am_alert(fingerprint="fp-front", starts=T0))).encode()
    front, django = _both("/api/alerts/alertmanager/", body, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert front == django
    assert front[0] == "202 Accepted"
    # The second was a replay of the first: one row.
    assert AlertEvent.objects.filter(fingerprint="fp-front").count() == 1


def test_an_accepted_alert_is_recorded_and_counted_under_its_view(tokens):
    def count(status: str) -> float:
        value = metrics.HTTP_REQUESTS.labels("alerts-ingest-generic", "POST", status)
        return value._value.get()

    before = count("202"), count("401")
    status, headers, _ = _call(_apps()[0], _environ(GENERIC, ONE, token=tokens["generic"]))
    assert status == "202 Accepted"
    _call(_apps()[0], _environ(GENERIC, ONE, token="nxa_abc_def"))
    assert (count("202"), count("401")) == (before[0] + 1, before[1] + 1)
    event = AlertEvent.objects.get()
    assert event.fingerprint and event.status == "firing"
    assert dict(headers)["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in dict(headers)  # no page middleware, as in Django


def test_other_paths_go_to_django(client):
    status, headers, _ = _call(_apps()[0], _environ("/api/alerts/groups/", method="GET"))
    assert status.split()[0] in ("401", "403")
    assert "Content-Security-Policy" in dict(headers)  # the whole chain ran
    status, _, _ = _call(_apps()[0], _environ("/api/alerts/generic/extra", method="POST"))
    assert status.startswith("404")


def test_a_request_django_would_redirect_to_https_goes_to_django(tokens, settings):
    settings.SECURE_SSL_REDIRECT = True  # production's
    status, headers, _ = _call(_apps()[0], _environ(GENERIC, ONE, token=tokens["generic"]))
    assert status.startswith("301")
    assert dict(headers)["Location"] == "https://testserver/api/alerts/generic/"
    # Behind the TLS proxy, the front answers, with HSTS as SecurityMiddleware adds it.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    front, django = _both(GENERIC, ONE, token=tokens["generic"], HTTP_X_FORWARDED_PROTO="https")
    assert front == django
    assert ("Strict-Transport-Security", "max-age=3600") in front[1]


def test_an_unexpected_error_is_answered_as_django_answers_it(tokens, monkeypatch):
    from alerts import intake

    def broken(body, now):  # noqa: ANN001, ANN202 - our own parser, not a client library
        raise RuntimeError("parser bug")

    monkeypatch.setitem(intake.PARSERS, "generic", broken)
    front, django = _both(GENERIC, ONE, token=tokens["generic"])
    assert front == django
    assert front[0].startswith("500")


def test_the_front_is_what_the_web_server_serves():
    from nexusops import wsgi

    assert isinstance(wsgi.application, IntakeFront)
    assert settings.WSGI_APPLICATION == "nexusops.wsgi.application"


def test_the_front_answers_503_with_retry_after_when_the_database_is_down(tmp_path):
    body = json.dumps(alertmanager(am_alert(starts=T0)))
    code = (
        "import io, json\n"
        "from nexusops.wsgi import application\n"
        f"body = {body!r}.encode()\n"
        "env = {'REQUEST_METHOD': 'POST', 'PATH_INFO': '/api/alerts/alertmanager/',\n"
        "  'SERVER_NAME': 'localhost', 'SERVER_PORT': '80', 'HTTP_HOST': 'localhost',\n"
        "  'CONTENT_TYPE': 'application/json', 'CONTENT_LENGTH': str(len(body)),\n"
        "  'HTTP_AUTHORIZATION': 'Bearer nxa_abc_def', 'wsgi.input': io.BytesIO(body),\n"
        "  'wsgi.url_scheme': 'http'}\n"
        "seen = []\n"
        "out = b''.join(application(env, lambda s, h, e=None: seen.extend([s, dict(h)])))\n"
        "print(seen[0])\nprint(seen[1]['Retry-After'])\nprint(out.decode())\n"
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
    assert status == "503 Service Unavailable" and retry_after == "5"
    assert "not recorded" in json.loads(payload)["error"]["message"]
