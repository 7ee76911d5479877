"""A SAML 2.0 identity provider built with pysaml2, for the SAML sign-in tests.

Its metadata is served over HTTP (the console reads it from ``SAML_IDP_METADATA_URL`` as it
would a real provider's); it signs responses with a key of its own, made for the session.
"""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server

XMLSEC = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"


def key_and_cert(folder: Path) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-idp.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / "idp.key", folder / "idp.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


@dataclass
class SamlIdp:
    url: str
    key_file: str
    cert_file: str
    metadata: bytes

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/metadata"

    def config(self, sp_metadata: str = "") -> IdPConfig:
        conf = IdPConfig()
        conf.load(
            {
                "entityid": self.metadata_url,
                "xmlsec_binary": XMLSEC,
                "key_file": self.key_file,
                "cert_file": self.cert_file,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(f"{self.url}/sso", BINDING_HTTP_REDIRECT)]
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {"default": {"lifetime": {"minutes": 5}}},
                    }
                },
                "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
            }
        )
        return conf

    def respond(self, *, sp_metadata: str, saml_request: str, subject: str, identity: dict) -> str:
        """Answer an AuthnRequest (HTTP-Redirect) with a signed response, base64 for a POST."""
        server = Server(config=self.config(sp_metadata))
        request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
        response = server.create_authn_response(
            identity=identity,
            in_response_to=request.id,
            destination=request.assertion_consumer_service_url,
            sp_entity_id=request.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=subject),
            authn={
                "class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                "authn_auth": self.url,
            },
            sign_response=True,
            sign_assertion=True,
            binding=BINDING_HTTP_POST,
        )
        return str(response)

    @staticmethod
    def encode(xml: str) -> str:
        return base64.b64encode(xml.encode()).decode()


def start(folder: Path) -> tuple[SamlIdp, ThreadingHTTPServer]:
    key_file, cert_file = key_and_cert(folder)
    holder: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path != "/metadata":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.end_headers()
            self.wfile.write(holder["metadata"])

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    idp = SamlIdp(url=url, key_file=key_file, cert_file=cert_file, metadata=b"")
    idp.metadata = str(entity_descriptor(idp.config())).encode()
    holder["metadata"] = idp.metadata
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return idp, server
