"""NEXUS SSO (nexusops/standins/idp) in a child process, as ``make run`` starts it, and a
helper that walks its sign-in over real HTTP the way a browser would."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from accounts import oidc
from nexusops.standins import idp
from tests.support.subproc import ROOT


@dataclass
class Idp:
    base: int
    url: str  # the issuer

    @property
    def origin(self) -> str:
        return f"http://{idp.HOST}:{idp.port(self.base)}"

    def control(self, what: str, body: dict) -> dict:
        response = requests.post(f"{self.origin}/_standin/{what}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def person(self, username: str, *groups: str, email: str = "") -> None:
        self.control("people", {"username": username, "groups": list(groups), "email": email})

    def fault(self, kind: str) -> None:
        self.control("fault", {"fault": kind})

    def client(self, *redirect_uris: str, secret: str = idp.CLIENT_SECRET) -> None:
        self.control("client", {"redirect_uris": list(redirect_uris), "client_secret": secret})

    def provider(self, **changes: str) -> dict[str, str]:
        return {
            "slug": "nexus",
            "name": "NEXUS SSO",
            "issuer": self.url,
            "client_id": idp.CLIENT_ID,
            "client_secret": idp.CLIENT_SECRET,
            "groups_claim": "groups",
            "scopes": "openid email profile groups",
            **changes,
        }


def _free_base() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1] - idp.PORT_OFFSET


@pytest.fixture(scope="session")
def idp_server(tmp_path_factory) -> Iterator[Idp]:
    """``python -m nexusops.standins.idp`` on a free port, with its own var dir."""
    base = _free_base()
    env = {
        **os.environ,
        "NEXUSOPS_STANDIN_PORT_BASE": str(base),
        "NEXUSOPS_VAR_DIR": str(tmp_path_factory.mktemp("idp-var")),
        "IDP_REDIRECT_URIS": "http://testserver/accounts/sso/nexus/callback/",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nexusops.standins.idp"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Idp(base=base, url=idp.issuer(base))
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"NEXUS SSO exited: {proc.stdout.read() if proc.stdout else ''}")
            try:
                if requests.get(f"{server.url}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass  # not listening yet, or still migrating its database
            if time.monotonic() > deadline:
                raise RuntimeError("NEXUS SSO did not start within 90 s")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def nexus_sso(settings, idp_server) -> Iterator[Idp]:
    """NEXUS SSO reset (no fault, demo people, the test client's callback registered) and
    configured as the console's one OpenID Connect provider."""
    requests.post(f"{idp_server.origin}/_standin/reset", timeout=10).raise_for_status()
    idp_server.client("http://testserver/accounts/sso/nexus/callback/")
    settings.SSO_OIDC_PROVIDERS = [idp_server.provider()]
    oidc.discovery_forget()
    yield idp_server
    oidc.discovery_forget()


def idp_sign_in(authorize_url: str, username: str, password: str = idp.PASSWORD) -> str:
    """Follow the provider's pages as a browser would (log in there, come back): returns the
    console callback URL the provider redirects to, with its code and state."""
    browser = requests.Session()
    url = authorize_url
    for _ in range(10):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.status_code == 200 and 'name="password"' in response.text:
            token = browser.cookies.get("nexus_sso_csrftoken")
            nxt = re.search(r'name="next" value="([^"]*)"', response.text)
            response = browser.post(
                url,
                data={
                    "username": username,
                    "password": password,
                    "csrfmiddlewaretoken": token,
                    "next": nxt.group(1).replace("&amp;", "&") if nxt else "",
                },
                headers={"Referer": url},
                allow_redirects=False,
                timeout=10,
            )
        assert response.status_code in (301, 302), (response.status_code, response.text[:500])
        url = urljoin(url, response.headers["Location"])
        if urlsplit(url).netloc == "testserver":
            return url
    raise AssertionError("the provider never sent the browser back")


def console_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
