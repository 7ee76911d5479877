"""Role/URL matrix rows for the accounts app (imported by tests/test_url_matrix.py).

The SSO pages (OpenID Connect and SAML) answer 404 for a provider that is not configured (none
is, in the matrix) and need no login. Token pages are everyone's own; everyone's tokens are for
managers. Revoking redirects back whatever happened (the page says what): 302 for every role.
"""

from __future__ import annotations

import datetime as dt

from accounts.models import PersonalToken
from nexusops.common import clock
from tests.factories import UserFactory
from tests.support.urlmatrix import ADMIN, EVERYONE, MANAGER, Row, page, public


def _token() -> dict:
    now = clock.now()
    token = PersonalToken.objects.create(
        user=UserFactory(username="token-owner"),
        name="script",
        prefix="nxp_abcdef",
        key_hash="0" * 64,
        created_at=now,
        expires_at=now + dt.timedelta(days=30),
    )
    return {"token_id": token.pk}


ROWS = {
    "sso-start": public(404, kwargs=lambda: {"slug": "nexus"}),
    "sso-callback": public(404, kwargs=lambda: {"slug": "nexus"}),
    # SAML is off in the matrix (no SAML_IDP_METADATA_URL).
    "saml2_login": public(404),
    "saml2_acs": public(404),
    "saml2_metadata": public(404),
    "token-list": page(),
    "token-list-all": page(ok=(MANAGER, ADMIN)),
    "token-revoke": Row({r: 302 for r in EVERYONE}, kwargs=_token, method="post"),
}
