from django.apps import AppConfig


class ChatConfig(AppConfig):
    """What incidents say in chat, and what chat says back: the provider-neutral domain side.

    Outbound: ``fanout`` (which incident events are said in the incident's channel), ``render``
    (what is said) and ``senders`` (outbox rows delivered through a provider's adapter in
    ``nexusops/integrations``). Inbound: ``inbound/`` (slash command, buttons, ``!timeline``
    and pins, each running one incidents service). It stands on ``incidents``; ``incidents``
    never imports it.
    """

    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from nexusops.integrations.chat import chat_providers_configured
        from nexusops.integrations.errors import NotConfigured

        try:
            chat_providers_configured(settings.NEXUSOPS_CHAT)
        except NotConfigured as exc:
            raise ImproperlyConfigured(exc.message) from None

        from . import senders
        from .inbound import senders as inbound_senders

        senders.register()
        inbound_senders.register()
