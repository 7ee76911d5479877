"""``manage.py mattermost_listen``: the Mattermost pin listener, a process of its own.

It runs beside the web, worker and beat processes when ``NEXUSOPS_CHAT`` names Mattermost
(``make run`` starts it then; see the README). Without Mattermost it says why and waits for
its stop signal, so a process manager that starts every line of a Procfile keeps running.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from chat.inbound.mattermost_pins import PinListener
from chat.senders import chat_providers
from nexusops.integrations.mattermost.provider import MattermostProvider


class Command(BaseCommand):
    help = "Record pins in Mattermost incident channels on the timeline (WebSocket events API)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--backoff-max", type=float, default=60.0, help="longest wait (s)")

    def handle(self, *args, backoff_max: float, **options) -> None:  # noqa: ANN002, ANN003
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if "mattermost" not in chat_providers() or not MattermostProvider.enabled():
            self.stdout.write(
                "The Mattermost pin listener is off: NEXUSOPS_CHAT does not name mattermost, "
                f"or {MattermostProvider.off_reason}.",
            )
            stop.wait()
            return
        self.stdout.write("Mattermost pin listener: listening for pins in incident channels.")
        PinListener(stop=stop, backoff_max=backoff_max).run()
