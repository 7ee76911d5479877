from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "nexusops.engine"
    label = "engine"
    verbose_name = "Engine (outbox, timers, events)"
