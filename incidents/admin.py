"""Runbook data a manager edits: severities, services, checklist items, people, escalation
tiers, rotations and their overrides, and the on-call pay figures (DESIGN.md rule 8)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from nexusops.common.errors import ApplicationError
from nexusops.engine.models import Timer

from .models import (
    ChecklistTemplateItem,
    EscalationPolicy,
    EscalationTier,
    PayPolicy,
    Profile,
    Rotation,
    RotationMember,
    RotationOverride,
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


class EscalationTierInline(admin.TabularInline):
    model = EscalationTier
    extra = 0
    filter_horizontal = ("severities",)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "rotation", "repage_on_ack_breach", "ack_breach_grace")
    inlines = [EscalationTierInline]


@admin.register(EscalationTier)
class EscalationTierAdmin(admin.ModelAdmin):
    list_display = (
        "policy",
        "order",
        "name",
        "target",
        "org_role",
        "user",
        "delay",
        "on_data_breach",
        "on_major_customer_impact",
    )
    list_filter = ("policy",)


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    extra = 0


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "handoff_weekday", "handoff_time", "start_date", "active")
    inlines = [RotationMemberInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        from .oncall.handoff import rotation_timers_arm

        rotation_timers_arm(form.instance)


@admin.register(RotationOverride)
class RotationOverrideAdmin(admin.ModelAdmin):
    list_display = ("rotation", "user", "replaces", "starts_at", "ends_at", "kind", "approved_by")
    list_filter = ("rotation", "kind")
    readonly_fields = ("requested_by", "approved_by", "created_at")

    def save_model(self, request, obj, form, change):
        # A manager saving an override in the admin approves it; overlap checks live in
        # incidents.oncall.services (the console's form), not here.
        obj.requested_by = obj.requested_by or request.user
        obj.approved_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(PayPolicy)
class PayPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "weekly_stipend",
        "incident_multiplier",
        "night_starts",
        "night_ends",
        "currency",
    )


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
