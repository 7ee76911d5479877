"""Every rule about post-mortems and action items. Views, tasks and other apps call these.

Writes are keyword-only, check permission, lock the row (and the incident when they write to
its timeline), validate fully and append the incident's timeline event in one transaction.
"""

from .action_items import action_item_create, action_item_update
from .document import (
    postmortem_autosave,
    postmortem_create,
    postmortem_entry_update,
    postmortem_schedule,
    postmortem_update,
)
from .review import (
    postmortem_approve,
    postmortem_publish,
    postmortem_request_changes,
    postmortem_submit,
)

__all__ = [
    "action_item_create",
    "action_item_update",
    "postmortem_approve",
    "postmortem_autosave",
    "postmortem_create",
    "postmortem_entry_update",
    "postmortem_publish",
    "postmortem_request_changes",
    "postmortem_schedule",
    "postmortem_submit",
    "postmortem_update",
]
