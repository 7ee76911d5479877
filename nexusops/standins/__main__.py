"""Run every stand-in on its demo port until Ctrl-C: ``python -m nexusops.standins``."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from . import (
    argocd,
    aws_demo,
    demo,
    kubernetes,
    mattermost,
    pagerduty,
    sendgrid_api,
    slack,
    statuspage,
    stripe_api,
    teams,
)
from .common import run_in_thread


def _moto(port: int):
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from moto.server import ThreadedMotoServer

    from . import moto_elasticache

    moto_elasticache.install()  # the ElastiCache operations moto lacks (see that module)
    server = ThreadedMotoServer(ip_address=demo.HOST, port=port, verbose=False)
    server.start()
    import boto3

    s3 = boto3.client("s3", endpoint_url=demo.url("aws"), region_name="us-east-1")
    for bucket in ("nexus-backups", "nexus-media", "nexus-uploads"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key = "uploads/video_123.mp4"
    for body in (b"original video", b"re-encoded video", b"corrupted upload"):
        s3.put_object(Bucket="nexus-media", Key=key, Body=body)
    made = aws_demo.seed(lambda name: boto3.client(name, endpoint_url=demo.url("aws"),
                                                   region_name="us-east-1"))  # fmt: skip
    print(f"  AWS demo: EBS volume {made['volume']} on {made['instance']}", flush=True)
    return server


def _teams():
    """The Teams stand-in, delivering button presses to the console `make run` starts."""
    server, _ = teams.make_server(demo.HOST, demo.PORTS["teams"])
    site = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    server.app.bot_endpoint = f"{site}/teams/messages/"
    server.app.default_bot_endpoint = server.app.bot_endpoint
    return server


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request
    var_dir = Path(os.environ.get("NEXUSOPS_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
    ca_path = demo.ca_path(var_dir)
    ca_path.parent.mkdir(parents=True, exist_ok=True)
    servers = [
        ("Slack", slack.make_server(demo.HOST, demo.PORTS["slack"])[0]),
        ("Mattermost", mattermost.make_server(demo.HOST, demo.PORTS["mattermost"])[0]),
        (
            "PagerDuty",
            pagerduty.make_server(demo.HOST, demo.PORTS["pagerduty"], ca_path=ca_path)[0],
        ),
        ("Statuspage", statuspage.make_server(demo.HOST, demo.PORTS["statuspage"])[0]),
        (
            "Kubernetes",
            kubernetes.make_server(
                demo.HOST, demo.PORTS["kubernetes"], token=demo.TOKENS["kubernetes"]
            )[0],
        ),
        (
            "ArgoCD",
            argocd.make_server(demo.HOST, demo.PORTS["argocd"], token=demo.TOKENS["argocd"])[0],
        ),
        ("Teams", _teams()),
    ]
    sendgrid, sendgrid_app = sendgrid_api.make_server(demo.HOST, demo.PORTS["sendgrid"])
    sendgrid_api.seed_demo(sendgrid_app)
    stripe, stripe_app = stripe_api.make_server(demo.HOST, demo.PORTS["stripe"])
    stripe_api.seed_demo(stripe_app)
    servers += [("SendGrid", sendgrid), ("Stripe", stripe)]
    for label, server in servers:
        run_in_thread(server) if hasattr(server, "app") else threading.Thread(
            target=server.serve_forever, daemon=True
        ).start()
        print(f"  {label:<11} stand-in on {demo.HOST}:{server.server_address[1]}", flush=True)
    moto = _moto(demo.PORTS["aws"])
    print(f"  {'AWS (moto)':<11} stand-in on {demo.url('aws')}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for _, server in servers:
        server.shutdown()
        server.server_close()
    moto.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
