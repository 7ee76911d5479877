from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    verbose_name = "Post-mortems"

    def ready(self) -> None:
        from nexusops.common import demo, navigation, roles

        from . import history, hooks, seed

        read = ("postmortems.view_postmortem",)
        write = (
            "postmortems.view_draft",
            "postmortems.edit_postmortem",
            "postmortems.view_actionitem",
        )
        manage = (
            "postmortems.review_postmortem",
            "postmortems.view_reports",
            "postmortems.view_postmortempolicy",
            "postmortems.change_postmortempolicy",
            "postmortems.change_actionitem",
        )
        for role in roles.ROLES:
            roles.grant(role, *read)
        roles.grant(roles.RESPONDER, *write)
        roles.grant(roles.INCIDENT_COMMANDER, *write)
        roles.grant(roles.MANAGER, *write, *manage)

        hooks.register()
        demo.register("postmortems:policy", seed.seed_policy, order=30)
        demo.register(
            "postmortems:history", history.seed_postmortem_history, order=72, demo_only=True
        )
        navigation.register("postmortems", "Post-mortems", "postmortem-list", order=50)
