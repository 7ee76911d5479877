"""`make run` checks its ports before starting anything, and names the one that is taken."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nexusops.standins import idp  # noqa: E402
from nexusops.standins.demo import BASE_PORT, PORTS  # noqa: E402


def taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def main() -> int:
    web = int(os.environ.get("PORT", "8000"))
    wanted = [(web, "the web console", "PORT")] + [
        (port, f"the {name} stand-in", "NEXUSOPS_STANDIN_PORT_BASE")
        for name, port in sorted(PORTS.items(), key=lambda item: item[1])
    ]
    wanted.append(
        (idp.port(BASE_PORT), "the NEXUS SSO identity provider", "NEXUSOPS_STANDIN_PORT_BASE")
    )
    busy = [(port, what, var) for port, what, var in wanted if taken(port)]
    for port, what, var in busy:
        hint = (
            f"make run PORT={web + 1}"
            if var == "PORT"
            else f"make run NEXUSOPS_STANDIN_PORT_BASE={BASE_PORT + 100}"
        )
        print(
            f"Port {port} ({what}) is taken by another program on this machine. "
            f"Stop it, or move NexusOps: {hint}",
            file=sys.stderr,
        )
    return 1 if busy else 0


if __name__ == "__main__":
    sys.exit(main())
