"""The chat-provider interface: what incidents need from a chat system, whichever it is.

One incident gets one channel per configured provider (``NEXUSOPS_CHAT=slack`` by default;
``mattermost``, ``slack,teams`` …). The ``chat`` app (one floor up) decides *what* is said and
*when* (``chat/fanout.py``: one outbox row per provider and effect) and builds provider-neutral
messages (:class:`ChatSummary`, :class:`ChatLine`, ``chat/render.py``); a provider, here, only
says it in its own protocol. A provider never sees a Django model.

What a provider does (:class:`ChatProvider`), and where each incident need lands:

====================================  ==========================================================
incident need                          provider call (the outbox target that makes it)
====================================  ==========================================================
a channel per incident, named          ``channel_name(number)`` then ``channel_create(name)``,
``incident-YYYYMMDD-NNN``               reusing a channel of that name (``<p>.channel_setup``)
pinned summary, updated in place       ``summary_post`` + ``pin`` at set-up; ``summary_update``
                                       (``<p>.summary_update``)
topic / header                         ``header_set`` at set-up and on each summary update;
                                       ``purpose_set`` once at set-up
mirrored updates                       ``post(channel, line_text(line))`` (``<p>.post``); a retry
                                       finds the earlier post with ``message_find(key)``
invites                                ``user_for_email`` links people; ``invite`` (``<p>.invite``)
archive after close                    ``archive`` (``<p>.archive``, a day after the close)
buttons (Acknowledge, Resolve, Open)   rendered by the provider from ``ChatSummary.buttons``; a
                                       press comes back to the provider's inbound endpoint
slash command ``/incident …``          inbound endpoint -> ``chat.inbound.slack_commands.dispatch``
``!timeline`` messages, pins           inbound endpoint -> the ``note`` action
====================================  ==========================================================

Every outbound call is idempotent (DESIGN.md rule 3): ``channel_create`` reuses the channel,
``pin`` of a pinned message is done, posts carry the outbox key so ``message_find`` finds them,
``invite`` skips members. Errors are ours (``nexusops.integrations.errors``):
``VendorUnavailable``/``RateLimited`` (with ``retry_after``) are retried by the outbox,
``VendorRejected`` is not.

Inbound (slash command, buttons, messages, pins) is the provider's HTTP endpoint on the domain
side (``chat/inbound/<provider>…``): it authenticates the request the vendor's way (Slack
signature, Mattermost token, Bot Framework JWT) *before* parsing, maps the person to a console
user, and hands one action (``chat.inbound.actions``: ``declare``, ``transition``, ``note`` …)
to ``inbound_action_task`` once per delivery (``_action_enqueue``), exactly as the Slack views do.

To add a provider ``acme``:

1. ``nexusops/integrations/acme/provider.py``: a class with the attributes and methods of
   :class:`ChatProvider` (the only place the vendor library is imported is its ``client.py``),
   with ``default()`` returning one built from settings and ``enabled()``/``off_reason``.
2. One line in :data:`nexusops.integrations.chat.registry.PROVIDERS`.
3. Its inbound endpoints in ``chat/inbound/`` and their URLs; a stand-in in
   ``nexusops/standins/``; ``NEXUSOPS_CHAT=acme`` turns it on.

Outbox targets are ``<name>.channel_setup``, ``<name>.summary_update``, ``<name>.post``,
``<name>.invite``, ``<name>.archive`` and keys end ``:<name>-channel``, ``:<name>-summary``,
``:<name>-mirror``, ``:<name>-invite``, ``:<name>-archive``, so each provider's messages are
idempotent on their own and one provider's outage never holds another's.
"""

from .provider import (
    ChatButton,
    ChatChannel,
    ChatInvites,
    ChatLine,
    ChatProvider,
    ChatSummary,
)
from .registry import PROVIDERS, chat_provider, chat_providers_configured

__all__ = [
    "PROVIDERS",
    "ChatButton",
    "ChatChannel",
    "ChatInvites",
    "ChatLine",
    "ChatProvider",
    "ChatSummary",
    "chat_provider",
    "chat_providers_configured",
]
