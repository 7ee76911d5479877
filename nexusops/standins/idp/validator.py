"""What NEXUS SSO says about a person, and the broken id_tokens tests ask it for."""

from __future__ import annotations

import time

from oauth2_provider.oauth2_validators import OAuth2Validator

from . import faults


class NexusValidator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "groups": "groups",
    }

    def get_additional_claims(self, request):  # noqa: ANN001, ANN201 - DOT's signature
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "name": user.get_full_name(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.username,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }

    def get_id_token_dictionary(self, token, token_handler, request):  # noqa: ANN001, ANN201
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        fault = faults.current()
        if fault == "wrong_audience":
            claims["aud"] = "some-other-client"
        elif fault == "expired":
            now = int(time.time())
            claims["iat"], claims["exp"] = now - 1200, now - 600
        elif fault == "replay" and faults.last_nonce():
            # The nonce of an earlier sign-in, as in an id_token captured and played again.
            claims["nonce"] = faults.last_nonce()
        if request.nonce and fault != "replay":
            faults.remember_nonce(request.nonce)
        return claims, expiration_time

    def finalize_id_token(self, id_token, token, token_handler, request):  # noqa: ANN001, ANN201
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        fault = faults.current()
        if fault == "bad_signature":
            header, payload, signature = signed.split(".")
            # Flip the first signature character: still base64url, no longer the key's.
            first = "A" if signature[0] != "A" else "B"
            return f"{header}.{payload}.{first}{signature[1:]}"
        return signed
