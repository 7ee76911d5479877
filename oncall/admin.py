"""On-call data a manager edits in the admin: the escalation policy and its tiers, rotations
with their members and overrides, and the pay figures (DESIGN.md rule 8)."""

from __future__ import annotations

from django.contrib import admin

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
    list_display = ("rotation", "user", "replaces", "starts_at", "ends_at", "kind", "approved_by")
    list_filter = ("rotation", "kind")
    readonly_fields = ("requested_by", "approved_by", "created_at")

    def save_model(self, request, obj, form, change):
        # A manager saving an override in the admin approves it; overlap checks live in
        # oncall.services (the console's form), not here.
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
