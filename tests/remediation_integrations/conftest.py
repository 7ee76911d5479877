"""Stand-ins for the remediation adapters, each a real HTTP server on 127.0.0.1.

Kubernetes and ArgoCD are the project's own stand-ins (``nexusops.standins``); AWS is moto's
real server, its ElastiCache extended by ``nexusops.standins.moto_elasticache``. Servers start
once per session and are reset before each test, so every test starts from the seeded state
and sees only its own requests.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

# moto's recorder (every request the server received, to prove that nothing was sent) writes
# to the file this names, read once when moto is imported: one file per test process.
os.environ.setdefault(
    "MOTO_RECORDER_FILEPATH",
    os.path.join(tempfile.gettempdir(), f"nexusops-moto-recording-{os.getpid()}.jsonl"),
)

import pytest  # noqa: E402
import requests  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from nexusops.integrations.argocd import ArgoCDClient
from nexusops.integrations.aws import AwsClient
from nexusops.integrations.kubernetes import KubernetesClient
from nexusops.standins import argocd as argocd_standin_server
from nexusops.standins import kubernetes as k8s_standin_server
from nexusops.standins import moto_elasticache

K8S_TOKEN = "k8s-test-token"
ARGOCD_TOKEN = "argocd-test-token"


def _serve(server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


class Standin:
    """A running stand-in: its URL, and its test hooks over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url

    def state(self) -> dict:
        return requests.get(f"{self.url}/_standin/state", timeout=5).json()

    def reset(self) -> None:
        requests.post(f"{self.url}/_standin/reset", timeout=5).raise_for_status()

    def requests(self, method: str | None = None, path_contains: str = "") -> list[dict]:
        return [
            r
            for r in self.state()["requests"]
            if (method is None or r["method"] == method) and path_contains in r["path"]
        ]


@pytest.fixture(scope="session")
def k8s_standin() -> Iterator[Standin]:
    server, url = k8s_standin_server.make_server(token=K8S_TOKEN)
    thread = _serve(server)
    yield Standin(url)
    server.shutdown()
    thread.join(5)


@pytest.fixture
def k8s(k8s_standin: Standin, settings) -> KubernetesClient:
    k8s_standin.reset()
    settings.KUBERNETES_API_URL = k8s_standin.url
    settings.KUBERNETES_TOKEN = K8S_TOKEN
    settings.KUBERNETES_VERIFY_SSL = True
    settings.KUBERNETES_NAMESPACE = "nexus-production"
    return KubernetesClient.from_settings()


@pytest.fixture(scope="session")
def argocd_standin() -> Iterator[Standin]:
    server, url = argocd_standin_server.make_server(token=ARGOCD_TOKEN, operation_seconds=0.3)
    thread = _serve(server)
    yield Standin(url)
    server.shutdown()
    thread.join(5)


@pytest.fixture
def argocd(argocd_standin: Standin) -> ArgoCDClient:
    argocd_standin.reset()
    return ArgoCDClient(
        url=argocd_standin.url, token=ARGOCD_TOKEN, busy_backoff=0.05, busy_timeout=5.0
    )


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        # Credentials for moto only, and no shared AWS config from the machine.
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }.items():
            env.setenv(name, value)
        env.delenv("AWS_PROFILE", raising=False)
        moto_elasticache.install()  # moto's ElastiCache lacks resharding and replica counts
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


class MotoRecorder:
    """What moto's server received since :meth:`start`, read over its own HTTP API."""

    def __init__(self, url: str) -> None:
        self.url = url

    def start(self) -> None:
        requests.post(f"{self.url}/moto-api/recorder/reset-recording", timeout=5)
        requests.post(f"{self.url}/moto-api/recorder/start-recording", timeout=5)

    def stop(self) -> None:
        requests.post(f"{self.url}/moto-api/recorder/stop-recording", timeout=5)

    def requests(self) -> list[str]:
        """One line per request: the query API's ``Action`` or S3's method and path."""
        text = requests.get(f"{self.url}/moto-api/recorder/download-recording", timeout=5).text
        seen = []
        for line in filter(None, text.splitlines()):
            entry = json.loads(line)
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8", "replace")
            action = parse_qs(body).get("Action") if isinstance(body, str) else None
            url = urlparse(entry["url"])
            seen.append(action[0] if action else f"{entry['method']} {url.path}?{url.query}")
        return seen


@pytest.fixture
def moto_recorder(moto_url: str) -> Iterator[MotoRecorder]:
    recorder = MotoRecorder(moto_url)
    recorder.start()
    yield recorder
    recorder.stop()


@pytest.fixture
def aws(moto_url: str, settings) -> AwsClient:
    requests.post(f"{moto_url}/moto-api/reset", timeout=5).raise_for_status()
    settings.AWS_ENDPOINT_URL = moto_url
    settings.AWS_REGION = "us-east-1"
    return AwsClient.from_settings()


@pytest.fixture
def boto(moto_url: str, aws: AwsClient):
    """boto3 for arranging a test's world in moto (buckets, instances): not the code under test."""
    import boto3

    def client(service: str, region: str = "us-east-1"):
        return boto3.client(service, endpoint_url=moto_url, region_name=region)

    return client


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
