from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """``/metrics``: reads the engine, incidents and alerts at once, so it sits above them all."""

    name = "monitoring"
    verbose_name = "Monitoring"
