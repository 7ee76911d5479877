"""Issue 18: providers come from the environment; a half-configured one stops start-up in one
line naming the variable, and a mapping to an unknown role fails ``manage.py check``."""

from __future__ import annotations

import pytest

from tests.nexusops.test_settings import PRODUCTION
from tests.support.subproc import run_django, run_manage

pytestmark = pytest.mark.smoke

OKTA = {
    "OIDC_PROVIDERS": "okta, entra",
    "OIDC_OKTA_NAME": "Okta",
    "OIDC_OKTA_ISSUER": "https://acme.okta.com/oauth2/default/",
    "OIDC_OKTA_CLIENT_ID": "0oa1",
    "OIDC_OKTA_CLIENT_SECRET": "s1",
    "OIDC_ENTRA_ISSUER": "https://login.microsoftonline.com/t/v2.0",
    "OIDC_ENTRA_CLIENT_ID": "c2",
    "OIDC_ENTRA_CLIENT_SECRET": "s2",
    "OIDC_ENTRA_GROUPS_CLAIM": "roles",
}


def test_several_providers_are_read_from_the_environment():
    result = run_django(
        "from django.conf import settings as s\n"
        "for p in s.SSO_OIDC_PROVIDERS:\n"
        "    print(p['slug'], p['name'], p['issuer'], p['groups_claim'])",
        {**PRODUCTION, **OKTA},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "okta Okta https://acme.okta.com/oauth2/default groups",
        "entra Entra https://login.microsoftonline.com/t/v2.0 roles",
    ]


def test_a_provider_without_its_secret_stops_start_up():
    env = {**PRODUCTION, **OKTA}
    del env["OIDC_ENTRA_CLIENT_SECRET"]
    result = run_django("pass", env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "NexusOps configuration error: OIDC_ENTRA_CLIENT_SECRET is required when 'entra' "
        "is in OIDC_PROVIDERS"
    )


def test_a_mapping_to_an_unknown_role_fails_the_check(tmp_path):
    result = run_manage(
        "check",
        env={"NEXUSOPS_VAR_DIR": str(tmp_path), "SSO_GROUP_ROLES": "ops=Incident Comander"},
    )
    assert result.returncode != 0
    assert "SSO_GROUP_ROLES names unknown roles: Incident Comander" in result.stderr
