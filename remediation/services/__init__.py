"""Every rule about runbooks and remediation, in one place (views and tasks call these)."""

from .execute import action_execute, action_preview
from .runs import action_approve, action_refuse, action_request
from .scenarios import scenario_attach, scenario_step_set

__all__ = [
    "action_approve",
    "action_execute",
    "action_preview",
    "action_refuse",
    "action_request",
    "scenario_attach",
    "scenario_step_set",
]
