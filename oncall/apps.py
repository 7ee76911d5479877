from django.apps import AppConfig


class OncallConfig(AppConfig):
    """On-call: escalation tiers on time (runbook 2.4), rotations, overrides, handoffs and pay
    (runbook 8).

    It stands on ``incidents``: it reacts to incidents' events in ``oncall/handlers.py`` and
    answers the command page's ``CommandPagePanels`` with the escalation fold; ``incidents``
    never imports it. Its models kept their ``incidents_`` tables (migrations 0001).
    """

    name = "oncall"
    verbose_name = "On-call"

    def ready(self) -> None:
        from nexusops.common import demo, navigation, roles

        from . import seed, senders

        senders.register()
        for role in (roles.RESPONDER, roles.INCIDENT_COMMANDER, roles.MANAGER):
            roles.grant(role, "oncall.request_override")
        roles.grant(
            roles.MANAGER,
            "oncall.manage_oncall",
            "oncall.view_pay_report",
            "oncall.view_escalationpolicy",
            "oncall.change_escalationpolicy",
            "oncall.add_escalationpolicy",
            "oncall.view_escalationtier",
            "oncall.change_escalationtier",
            "oncall.add_escalationtier",
            "oncall.delete_escalationtier",
            "oncall.view_rotation",
            "oncall.change_rotation",
            "oncall.add_rotation",
            "oncall.view_rotationmember",
            "oncall.change_rotationmember",
            "oncall.add_rotationmember",
            "oncall.delete_rotationmember",
            "oncall.view_rotationoverride",
            "oncall.change_rotationoverride",
            "oncall.add_rotationoverride",
            "oncall.delete_rotationoverride",
            "oncall.view_paypolicy",
            "oncall.change_paypolicy",
        )
        demo.register("oncall:escalation", seed.seed_escalation, order=12)
        demo.register("oncall:rotation", seed.seed_rotation, order=30, demo_only=True)
        demo.register("oncall:overrides", seed.seed_override_history, order=72, demo_only=True)
        navigation.register("oncall", "On-call", "oncall-home", order=30)
