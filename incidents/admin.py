"""Runbook data a manager edits: severities, services, checklist items and people (DESIGN.md
rule 8); escalation tiers, rotations and pay are on-call's (``oncall/admin.py``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from nexusops.common.errors import ApplicationError
from nexusops.engine.models import Timer

from .models import (
    ChecklistTemplateItem,
    Profile,
    Service,
    Severity,
)
from .services.severity import severity_ranks_sync


@admin.register(Severity)
class SeverityAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "definition",
        "response_time",
        "first_update_within",
        "pagerduty_urgency",
    )

    def save_model(self, request, obj, form, change) -> None:  # noqa: ANN001
        super().save_model(request, obj, form, change)
        # The incident list's severity order reads each incident's copy of the rank.
        severity_ranks_sync()


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "kind", "owner_team")
    list_filter = ("kind",)
    search_fields = ("slug", "name")


@admin.register(ChecklistTemplateItem)
class ChecklistTemplateItemAdmin(admin.ModelAdmin):
    list_display = ("key", "step", "label", "order", "automatic")
    list_filter = ("step",)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "org_role",
        "time_zone",
        "slack_user_id",
        "slack_problem",
        "pagerduty_user_id",
        "phone",
        "hourly_rate",
    )
    readonly_fields = ("slack_problem",)
    list_filter = ("org_role",)
    search_fields = ("user__username", "user__first_name", "user__last_name")


class TimerStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("dead", "Stopped after failing"),
            ("failing", "Failing, retrying"),
            ("pending", "Pending"),
            ("fired", "Fired"),
            ("cancelled", "Cancelled"),
        ]

    def queryset(self, request, queryset):
        live = {"fired_at__isnull": True, "cancelled_at__isnull": True}
        return {
            "dead": lambda: queryset.filter(dead_at__isnull=False, **live),
            "failing": lambda: queryset.filter(dead_at__isnull=True, attempts__gt=0, **live),
            "pending": lambda: queryset.filter(dead_at__isnull=True, **live),
            "fired": lambda: queryset.filter(fired_at__isnull=False),
            "cancelled": lambda: queryset.filter(cancelled_at__isnull=False),
        }.get(self.value(), lambda: queryset)()


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin):
    """Timers are the sweep's to fire; here a person sees them and retries a dead one."""

    list_display = (
        "id",
        "kind",
        "incident",
        "due_at",
        "fired_at",
        "cancelled_at",
        "attempts",
        "next_attempt_at",
        "dead_at",
        "short_error",
    )
    list_filter = (TimerStateFilter, "kind")
    search_fields = ("kind", "incident__number")
    list_select_related = ("incident",)
    readonly_fields = [f.name for f in Timer._meta.fields]
    actions = ["retry_dead"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Timer | None = None) -> bool:
        return False  # cancelling is the incident's business, through its services

    @admin.display(description="last error")
    def short_error(self, timer: Timer) -> str:
        return (timer.last_error[:80] + "…") if len(timer.last_error) > 80 else timer.last_error

    @admin.action(description="Retry the selected stopped timers")
    def retry_dead(self, request: HttpRequest, queryset: QuerySet[Timer]) -> None:
        from .services.stopped_timers import timer_retry

        done, refused = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                timer_retry(timer=pk, actor=request.user)
            except ApplicationError as exc:
                refused.append(f"#{pk}: {exc.message}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} timer(s) due again; the next sweep fires them.")
        for line in refused:
            self.message_user(request, line, level=messages.WARNING)
