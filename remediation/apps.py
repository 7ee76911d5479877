from django.apps import AppConfig


class RemediationConfig(AppConfig):
    name = "remediation"
    verbose_name = "Runbooks and remediation"

    def ready(self) -> None:
        from nexusops.common import demo, navigation, roles

        from . import seed, seed_aws
        from .services import execute

        read = ("remediation.view_scenario", "remediation.view_scenariostep")
        diagnose = (*read, "remediation.run_diagnosis", "remediation.view_actionrun")
        remediate = (
            *diagnose,
            "remediation.run_remediation",
            "remediation.approve_remediation",
            "remediation.attach_scenario",
        )
        manage = (
            "remediation.run_standalone",
            "remediation.add_scenario",
            "remediation.change_scenario",
            "remediation.add_scenariostep",
            "remediation.change_scenariostep",
            "remediation.delete_scenariostep",
        )
        roles.grant(roles.RESPONDER, *diagnose)
        roles.grant(roles.INCIDENT_COMMANDER, *remediate)
        roles.grant(roles.MANAGER, *remediate, *manage)

        execute.register_senders()
        demo.register("remediation:scenarios", seed.seed_scenarios, order=40)
        demo.register("remediation:aws_scenarios", seed_aws.seed_aws_scenarios, order=41)
        navigation.register(
            "runbooks", "Runbooks", "runbook-list", order=40, permission="remediation.view_scenario"
        )
