"""On-call data a manager edits in the admin: the escalation policy and its tiers, rotations
with their members and overrides, and the pay figures (DESIGN.md rule 8)."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from .handoff import rotation_timers_arm
from .models import (
    EscalationPolicy,
    EscalationTier,
    PayPolicy,
    Rotation,
    RotationMember,
    RotationOverride,
)


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
        rotation_timers_arm(form.instance)


@admin.register(RotationOverride)
class RotationOverrideAdmin(admin.ModelAdmin):
    list_display = ("rotation", "user", "replaces", "starts_at", "ends_at", "kind", "state")
    list_filter = ("rotation", "kind", "state")
    readonly_fields = (
        "requested_by",
        "approved_by",
        "state",
        "decided_by",
        "decided_at",
        "decision_note",
        "created_at",
    )

    def save_model(self, request, obj, form, change):
        # The admin follows the console's rule: a new override asked for by someone other than
        # the person taking the shift waits for a second person's approval (on the On-call
        # page). Overlap checks live in oncall.services (the console's form), not here.
        if not change:
            obj.requested_by = request.user
            if request.user.pk != obj.user_id:
                obj.state = RotationOverride.State.REQUESTED
            else:
                obj.state = RotationOverride.State.APPROVED
                obj.approved_by = obj.decided_by = request.user
                obj.decided_at = timezone.now()
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
