"""The ArgoCD adapter with ``requests`` against the ArgoCD stand-in over HTTP (runbook 1.4)."""

from __future__ import annotations

import json

import pytest
import requests

from nexusops.integrations.argocd import (
    AppNotFound,
    ArgoCDClient,
    InvalidArgument,
    OperationInProgress,
)
from nexusops.integrations.errors import NotConfigured, VendorRejected, VendorUnavailable

APP = "nexus-platform"
SHA = "9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"


def test_set_revision_sync_and_wait(argocd, argocd_standin):
    status = argocd.set_target_revision(APP, SHA)
    assert (status.target_revision, status.sync_status) == (SHA, "OutOfSync")

    started = argocd.sync(APP)
    assert started.operation_running

    result = argocd.wait_for_operation(APP, timeout=5, poll=0.05)

    assert result.succeeded and result.revision == SHA
    app = argocd.get_app(APP)
    assert (app.sync_status, app.synced_revision, app.operation_phase) == (
        "Synced",
        SHA,
        "Succeeded",
    )
    patch = argocd_standin.requests("PATCH")[0]
    body = json.loads(patch["body"])
    assert body["name"] == APP and body["patchType"] == "merge"
    assert isinstance(body["patch"], str)  # ArgoCD takes the merge patch as a JSON string
    assert json.loads(body["patch"]) == {"spec": {"source": {"targetRevision": SHA}}}
    assert all(r["authorized"] for r in argocd_standin.requests())


def test_sync_backs_off_while_another_operation_runs(argocd, argocd_standin):
    requests.post(
        f"{argocd_standin.url}/api/v1/applications/{APP}/sync",
        json={"name": APP},
        headers={"Authorization": "Bearer argocd-test-token"},
        timeout=5,
    )

    argocd.sync(APP, revision=SHA)

    syncs = argocd_standin.requests("POST", "/sync")
    assert len(syncs) >= 3  # the arranging one, at least one refused, the accepted one
    assert argocd.wait_for_operation(APP, timeout=5, poll=0.05).revision == SHA


def test_sync_gives_up_when_the_other_operation_never_ends(argocd_standin):
    client = ArgoCDClient(
        url=argocd_standin.url, token="argocd-test-token", busy_backoff=0.05, busy_timeout=0.2
    )
    argocd_standin.reset()
    client.sync(APP)

    with pytest.raises(OperationInProgress) as caught:
        client.sync(APP)
    assert isinstance(caught.value, VendorUnavailable)  # retryable by the task


def test_a_failed_operation_is_reported(argocd, argocd_standin):
    requests.post(
        f"{argocd_standin.url}/_standin/next-operation",
        json={"phase": "Failed", "message": "one or more objects failed to apply"},
        timeout=5,
    )
    argocd.sync(APP)

    result = argocd.wait_for_operation(APP, timeout=5, poll=0.05)

    assert not result.succeeded and result.phase == "Failed"
    assert "failed to apply" in result.message


def test_unknown_app_and_bad_input(argocd, argocd_standin):
    with pytest.raises(AppNotFound):
        argocd.get_app("nexus-unknown")
    sent = len(argocd_standin.requests())
    for call in (
        lambda: argocd.set_target_revision(APP, "main; rm -rf /"),
        lambda: argocd.set_target_revision(APP, "--force"),
        lambda: argocd.sync("Nexus_Platform"),
        lambda: argocd.sync(APP, revision="a b"),
    ):
        with pytest.raises(InvalidArgument):
            call()
    assert len(argocd_standin.requests()) == sent


def test_wrong_token_unreachable_and_unconfigured(argocd_standin, closed_port, settings):
    with pytest.raises(VendorRejected) as caught:
        ArgoCDClient(url=argocd_standin.url, token="wrong").get_app(APP)
    assert caught.value.status == 401
    with pytest.raises(VendorUnavailable, match="cannot reach ArgoCD"):
        ArgoCDClient(url=f"http://127.0.0.1:{closed_port}", token="t").get_app(APP)
    settings.ARGOCD_URL = ""
    with pytest.raises(NotConfigured):
        ArgoCDClient.from_settings()
