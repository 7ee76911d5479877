"""Which chat providers exist, and which ``NEXUSOPS_CHAT`` turns on."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from nexusops.integrations.errors import NotConfigured

from .provider import ChatProvider

# name -> "module:Class". One line per provider (see the package docstring).
PROVIDERS: dict[str, str] = {
    "slack": "nexusops.integrations.slack.provider:SlackProvider",
    "mattermost": "nexusops.integrations.mattermost.provider:MattermostProvider",
    "teams": "nexusops.integrations.teams.provider:TeamsProvider",
}


def chat_providers_configured(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"slack,teams"`` -> ``("slack", "teams")``: known names, each once, in order.

    An unknown name raises ``NotConfigured`` (settings refuse to start with a typo, rather
    than an incident quietly getting no channel)."""
    words = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(dict.fromkeys(w.strip().lower() for w in words if w.strip()))
    unknown = [n for n in names if n not in PROVIDERS]
    if unknown:
        raise NotConfigured(
            f"NEXUSOPS_CHAT names unknown chat providers {', '.join(unknown)}; "
            f"known: {', '.join(PROVIDERS)}",
            vendor="chat",
        )
    return names


def chat_provider_class(name: str) -> type[ChatProvider]:
    module, _, attr = PROVIDERS[name].partition(":")
    cls: type[ChatProvider] = getattr(importlib.import_module(module), attr)
    return cls


def chat_provider(name: str, **options: object) -> ChatProvider:
    """The provider ``name`` built from settings (``NotConfigured`` when it is not)."""
    return chat_provider_class(name).default(**options)
