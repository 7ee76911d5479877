from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The managers' reports: MTTA/MTTR, SLA, load and follow-through over a window.

    The top floor: it reads incidents, on-call and post-mortems, and nothing imports it. Its
    permission is ``postmortems.view_reports`` (declared with the post-mortem's, granted to
    managers by ``PostmortemsConfig``), kept so existing grants stay valid.
    """

    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from nexusops.common import navigation

        navigation.register(
            "reports",
            "Reports",
            "report-dashboard",
            order=60,
            permission="postmortems.view_reports",
        )
