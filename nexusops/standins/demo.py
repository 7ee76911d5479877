"""The stand-ins the demo runs, on fixed ports, and the settings that point NexusOps at them.

``python -m nexusops.standins`` starts them all (``make run`` does). With
``NEXUSOPS_STANDINS=1`` in embedded mode, settings default every vendor URL and secret to
these, so a newcomer sees the whole fan-out without any account anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import idp

BASE_PORT = int(os.environ.get("NEXUSOPS_STANDIN_PORT_BASE", "8100"))
HOST = "127.0.0.1"

PORTS = {
    "slack": BASE_PORT + 1,
    "pagerduty": BASE_PORT + 2,
    "statuspage": BASE_PORT + 3,
    "kubernetes": BASE_PORT + 4,
    "argocd": BASE_PORT + 5,
    "aws": BASE_PORT + 6,
    "sendgrid": BASE_PORT + 7,
    "stripe": BASE_PORT + 8,
    "mattermost": BASE_PORT + 10,
    "teams": BASE_PORT + 11,
}
TOKENS = {
    "slack_bot": "xoxb-nexusops-demo",
    "slack_signing": "nexusops-demo-signing-secret",
    "pagerduty_routing": "R0UT1NGKEY0123456789abcdef012345",
    "pagerduty_api": "y_NbAkKc66ryYTWUXYEu",
    "pagerduty_webhook": "nexusops-demo-webhook-secret",
    "statuspage": "sp-demo-key",
    "kubernetes": "k8s-demo-token",
    "argocd": "argocd-demo-token",
    "sendgrid": "SG.nexusops-demo.health-check-key",
    "stripe": "sk_test_nexusopsdemo0000000000000000",
    "mattermost": "mm-nexusops-demo-token",
    "mattermost_slash": "mm-nexusops-demo-slash-token",
    "mattermost_action": "mm-nexusops-demo-action-secret",
    "mattermost_outgoing": "mm-nexusops-demo-outgoing-token",
}
STATUSPAGE_PAGE_ID = "nexusdemo"
# The Slack stand-in's workspace: (user id, demo username, name, e-mail). The demo seed links
# each demo user to these ids, so every id the console sends exists in the workspace.
SLACK_USERS = [
    ("U04IRIS001", "ic", "Iris", "ic@nexus.example"),
    ("U04RAVI002", "responder", "Ravi", "responder@nexus.example"),
    ("U04MAYA003", "manager", "Maya", "manager@nexus.example"),
    ("U04SAM0004", "stakeholder", "Sam", "stakeholder@nexus.example"),
    ("U04ADA0005", "admin", "Ada", "admin@nexus.example"),
    ("U04CHRIS06", "ceo", "Chris", "ceo@nexus.example"),
    # The demo identity provider's people (nexusops/standins/idp), linked at first sign-in.
    ("U05CASEY07", "casey", "Casey", "casey@nexus.example"),
    ("U05RORY008", "rory", "Rory", "rory@nexus.example"),
    ("U05MORGAN9", "morgan", "Morgan", "morgan@nexus.example"),
    ("U05SASHA10", "sasha", "Sasha", "sasha@nexus.example"),
]


def slack_user_id(username: str) -> str:
    """The demo workspace's Slack id of a demo user ("" for someone not in it)."""
    return next((uid for uid, name, *_ in SLACK_USERS if name == username), "")


def url(name: str, scheme: str = "http", *, base: int | None = None) -> str:
    """A stand-in's URL; ``base`` overrides ``NEXUSOPS_STANDIN_PORT_BASE`` (tests)."""
    port = PORTS[name] if base is None else PORTS[name] - BASE_PORT + base
    return f"{scheme}://{HOST}:{port}"


_url = url


def ca_path(var_dir: Path) -> Path:
    return var_dir / "standins" / "pagerduty-ca.pem"


def settings_defaults(var_dir: Path, *, base: int | None = None) -> dict[str, str]:
    """Default values for the vendor settings when the demo stand-ins are on."""

    from . import teams  # imports demo: only once both are loaded

    def url(name: str, scheme: str = "http") -> str:
        return _url(name, scheme, base=base)

    issuer = idp.issuer(base if base is not None else BASE_PORT)
    return {
        "SLACK_API_URL": f"{url('slack')}/api/",
        "SLACK_BOT_TOKEN": TOKENS["slack_bot"],
        "SLACK_SIGNING_SECRET": TOKENS["slack_signing"],
        "SLACK_ANNOUNCE_CHANNEL": "",
        "MATTERMOST_URL": url("mattermost"),
        "MATTERMOST_TOKEN": TOKENS["mattermost"],
        "MATTERMOST_TEAM_ID": "mmteamnexus000000000000000",
        "MATTERMOST_SLASH_TOKEN": TOKENS["mattermost_slash"],
        "MATTERMOST_ACTION_SECRET": TOKENS["mattermost_action"],
        "MATTERMOST_OUTGOING_TOKEN": TOKENS["mattermost_outgoing"],
        "PAGERDUTY_EVENTS_URL": url("pagerduty", "https"),
        "PAGERDUTY_API_URL": url("pagerduty", "https"),
        "PAGERDUTY_ROUTING_KEY": TOKENS["pagerduty_routing"],
        "PAGERDUTY_API_TOKEN": TOKENS["pagerduty_api"],
        "PAGERDUTY_FROM_EMAIL": "ic@nexusops.example",
        "PAGERDUTY_WEBHOOK_SECRET": TOKENS["pagerduty_webhook"],
        "PAGERDUTY_CA_BUNDLE": str(ca_path(var_dir)),
        "PAGERDUTY_SERVICE_ID": "PNEXUS1",
        "STATUSPAGE_API_URL": f"{url('statuspage')}/v1",
        "STATUSPAGE_API_KEY": TOKENS["statuspage"],
        "STATUSPAGE_PAGE_ID": STATUSPAGE_PAGE_ID,
        # Microsoft Teams: one stand-in server plays login, Graph and the Bot Framework.
        "TEAMS_LOGIN_URL": url("teams"),
        "TEAMS_GRAPH_URL": f"{url('teams')}/v1.0",
        "TEAMS_SERVICE_URL": f"{url('teams')}/",
        "TEAMS_OPENID_URL": f"{url('teams')}/v1/.well-known/openidconfiguration",
        "TEAMS_TENANT_ID": teams.TENANT_ID,
        "TEAMS_APP_ID": teams.APP_ID,
        "TEAMS_APP_PASSWORD": teams.APP_SECRET,
        "TEAMS_TEAM_ID": teams.TEAM_ID,
        "KUBERNETES_API_URL": url("kubernetes"),
        "KUBERNETES_TOKEN": TOKENS["kubernetes"],
        "ARGOCD_URL": url("argocd"),
        "ARGOCD_TOKEN": TOKENS["argocd"],
        "AWS_ENDPOINT_URL": url("aws"),
        "SENDGRID_API_URL": url("sendgrid"),
        "SENDGRID_API_KEY": TOKENS["sendgrid"],
        "STRIPE_API_URL": url("stripe"),
        "STRIPE_API_KEY": TOKENS["stripe"],
        # The provider health check (runbook 5.1) asks NEXUS SSO with a client of its own.
        "OAUTH_CHECK_ISSUER": issuer,
        "OAUTH_CHECK_CLIENT_ID": idp.HEALTH_CLIENT_ID,
        "OAUTH_CHECK_CLIENT_SECRET": idp.HEALTH_CLIENT_SECRET,
        "OAUTH_CHECK_INTROSPECTION_URL": f"{issuer}/introspect/",
        # NEXUS SSO, the demo's identity provider (its own process: nexusops/standins/idp).
        "OIDC_PROVIDERS": "nexus",
        "OIDC_NEXUS_NAME": "NEXUS SSO",
        "OIDC_NEXUS_ISSUER": idp.issuer(base if base is not None else BASE_PORT),
        "OIDC_NEXUS_CLIENT_ID": idp.CLIENT_ID,
        "OIDC_NEXUS_CLIENT_SECRET": idp.CLIENT_SECRET,
    }
