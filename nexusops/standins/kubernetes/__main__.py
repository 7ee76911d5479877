"""``python -m nexusops.standins.kubernetes --port 8001``: the Kubernetes stand-in alone."""

from . import main

main()
