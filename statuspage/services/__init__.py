"""The status page's writes: public updates (``publish``) and e-mail subscriptions
(``subscriptions``). Views and tests import them from here."""

from .publish import (
    STATUS_RANK,
    incident_components,
    next_stage,
    public_title_default,
    public_title_suggested,
    public_update_publish,
    stage_templates,
)
from .subscriptions import (
    SubscribeResult,
    subscriber_confirm,
    subscriber_subscribe,
    subscriber_unsubscribe,
)

__all__ = [
    "STATUS_RANK",
    "SubscribeResult",
    "incident_components",
    "next_stage",
    "public_title_default",
    "public_title_suggested",
    "public_update_publish",
    "stage_templates",
    "subscriber_confirm",
    "subscriber_subscribe",
    "subscriber_unsubscribe",
]
