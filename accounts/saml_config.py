"""djangosaml2's ``SAML_CONFIG``, built by settings (so no Django imports here)."""

from __future__ import annotations

import shutil


def sp_config(*, metadata_url: str, entity_id: str, site_url: str) -> dict:
    """djangosaml2's ``SAML_CONFIG`` for this console as a service provider."""
    return {
        "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
        "entityid": entity_id,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": "NexusOps",
                "endpoints": {
                    "assertion_consumer_service": [
                        (f"{site_url}/saml2/acs/", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
                    ],
                },
                "allow_unsolicited": False,
                "authn_requests_signed": False,
                "want_response_signed": True,
                "want_assertions_signed": True,
                "name_id_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            }
        },
        "metadata": {"remote": [{"url": metadata_url}]},
    }
