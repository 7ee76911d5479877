"""Settings load in both modes; production refuses bad configuration in one clear line."""

import secrets

import pytest

from tests.support.subproc import run_django, run_manage

pytestmark = pytest.mark.smoke

PRODUCTION = {
    "NEXUSOPS_MODE": "production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "nexusops.example.com",
    "DATABASE_URL": "postgres://nexus:pw@db.internal:5432/nexusops",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
}


def test_embedded_mode_defaults(tmp_path):
    result = run_django(
        "from django.conf import settings as s\n"
        "print(s.MODE, s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)",
        {"NEXUSOPS_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "embedded",
        "True",
        "django.db.backends.sqlite3",
        "filesystem://",
    ]
    assert (tmp_path / "broker" / "queue").is_dir()


def test_production_mode_loads_from_the_environment():
    result = run_django(
        "from django.conf import settings as s\n"
        "print(s.MODE, s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.ALLOWED_HOSTS)",
        PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == [
        "production",
        "False",
        "django.db.backends.postgresql",
        "redis://redis.internal:6379/0",
    ]


def test_a_statement_limit_reaches_postgresql_beside_the_urls_own_options():
    """The web server's limit (python -m nexusops.serve sets DATABASE_STATEMENT_TIMEOUT);
    without it, no limit, as for workers, beat and migrate."""
    show = "from django.conf import settings as s\nprint(s.DATABASES['default']['OPTIONS'])"
    url = PRODUCTION["DATABASE_URL"] + "?options=-c%20search_path%3Dnexus"
    limited = run_django(
        show, {**PRODUCTION, "DATABASE_URL": url, "DATABASE_STATEMENT_TIMEOUT": "7"}
    )
    assert limited.returncode == 0, limited.stderr
    assert "'options': '-c search_path=nexus -c statement_timeout=7000'" in limited.stdout
    for value in ("0", ""):
        free = run_django(show, {**PRODUCTION, "DATABASE_STATEMENT_TIMEOUT": value})
        assert free.returncode == 0, free.stderr
        assert "statement_timeout" not in free.stdout


@pytest.mark.parametrize(
    "variable", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"]
)
def test_a_missing_production_variable_stops_start_up_naming_it(variable):
    env = {k: v for k, v in PRODUCTION.items() if k != variable}
    result = run_django("print('started')", env)
    assert result.returncode == 1
    assert "started" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines == [f"NexusOps configuration error: {variable} is required in production mode"]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SECRET_KEY", "short", "at least 50 random characters"),
        ("DATABASE_URL", "sqlite:////tmp/x.db", "must be a postgres:// URL"),
        ("CELERY_BROKER_URL", "filesystem://", "must be a redis://"),
        ("NEXUSOPS_MODE", "staging", "must be 'embedded' or 'production'"),
        ("DATABASE_STATEMENT_TIMEOUT", "30s", "must be whole seconds"),
        ("DATABASE_STATEMENT_TIMEOUT", "-1", "must be whole seconds"),
    ],
)
def test_malformed_settings_stop_start_up_with_one_line(variable, value, says):
    result = run_django("print('started')", {**PRODUCTION, variable: value})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"NexusOps configuration error: {variable} ")
    assert says in lines[0]


def test_check_deploy_is_clean_in_production_mode():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_seed_demo_is_refused_in_production_mode():
    result = run_manage("seed_demo", env=PRODUCTION)
    assert result.returncode == 1
    assert "refuses to run in production mode" in result.stderr
