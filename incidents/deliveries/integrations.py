"""Which integrations are switched off, for the command page (issue 12: "honest effects").

Derived from the registered senders, not a list kept by hand: senders that share an
``enabled()`` check are one integration (every Slack sender asks ``slack_enabled``), and
their ``off_reason`` says why it is off.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.conf import settings

from nexusops.engine.outbox import senders
from nexusops.integrations.chat.registry import chat_providers_configured


@dataclass(frozen=True)
class IntegrationOff:
    reason: str
    affects: tuple[str, ...]  # the labels of what is not sent, e.g. "Slack message"


def integrations_off() -> list[IntegrationOff]:
    """One entry per switched-off integration, in the order of its first sender's label."""
    groups: dict[object, list] = {}
    chosen = chat_providers_configured(settings.NEXUSOPS_CHAT)
    for spec in senders():
        if spec.chat and spec.chat not in chosen:
            continue
        groups.setdefault(spec.enabled, []).append(spec)
    off = []
    for enabled, specs in groups.items():
        if enabled():
            continue
        # Each sender may word it; the most common wording speaks for the integration.
        reason = Counter(s.off_reason for s in specs).most_common(1)[0][0]
        off.append(IntegrationOff(reason, tuple(s.label for s in specs)))
    return off
