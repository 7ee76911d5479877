"""Run NEXUS SSO until stopped: ``python -m nexusops.standins.idp``.

Migrates and seeds its own SQLite file first. ``IDP_REDIRECT_URIS`` (space-separated) are the
console callbacks it accepts; the default is the console at ``SITE_URL`` (``make run`` sets it).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002, ANN001, ANN002 - stdlib signature
        pass


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "nexusops.standins.idp.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    from . import HOST, issuer, port
    from .seed import seed

    call_command("migrate", verbosity=0, interactive=False)
    # honcho gives each process a PORT of its own: the console's address is SITE_URL.
    console = os.environ.get("SITE_URL", "").rstrip("/") or "http://127.0.0.1:8000"
    uris = os.environ.get("IDP_REDIRECT_URIS", "").split() or [
        f"{console}/accounts/sso/nexus/callback/",
        f"{console.replace('127.0.0.1', 'localhost')}/accounts/sso/nexus/callback/",
    ]
    seed(redirect_uris=uris)
    server = make_server(
        HOST,
        port(),
        get_wsgi_application(),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    print(f"  NEXUS SSO   identity provider on {issuer()}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()
    server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
