from django.contrib import admin, messages

from .models import Alert, AlertGroup, AlertProcessingFailure, AlertRule, AlertSource
from .services.groups import alert_processing_retry
from .services.sources import alert_source_create, alert_source_rotate_token


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "level",
        "metric",
        "match_labels",
        "operator",
        "threshold",
        "severity",
        "on_higher_severity",
        "order",
    )
    list_editable = ("order",)
    list_filter = ("level", "enabled")
    search_fields = ("name", "slug", "metric")


@admin.register(AlertSource)
class AlertSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "token_prefix", "enabled", "token_rotated_at")
    readonly_fields = ("token_prefix", "token_rotated_at", "previous_token_expires_at")
    actions = ["rotate_token"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        source, token = alert_source_create(
            name=obj.name, kind=obj.kind, actor=request.user, max_body_bytes=obj.max_body_bytes
        )
        obj.pk, obj.token_prefix = source.pk, source.token_prefix
        messages.warning(request, f"Token for {source.name} (shown once): {token}")

    @admin.action(description="Rotate the token (the old one works for 24 hours)")
    def rotate_token(self, request, queryset):
        for source in queryset:
            token = alert_source_rotate_token(source=source, actor=request.user)
            messages.warning(request, f"New token for {source.name} (shown once): {token}")


@admin.register(AlertGroup)
class AlertGroupAdmin(admin.ModelAdmin):
    list_display = ("title", "level", "status", "firing_count", "last_seen", "incident")
    list_filter = ("status", "level")
    readonly_fields = [f.name for f in AlertGroup._meta.fields]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "fingerprint", "event_count", "last_seen")
    list_filter = ("status",)
    readonly_fields = [f.name for f in Alert._meta.fields]


@admin.register(AlertProcessingFailure)
class AlertProcessingFailureAdmin(admin.ModelAdmin):
    list_display = ("key", "dead_at", "attempts", "next_attempt_at", "last_failed_at", "waiting")
    list_filter = (("dead_at", admin.EmptyFieldListFilter),)
    readonly_fields = [f.name for f in AlertProcessingFailure._meta.fields]
    actions = ["retry"]

    @admin.display(description="Waiting alerts")
    def waiting(self, obj: AlertProcessingFailure) -> int:
        return obj.waiting_events()

    @admin.action(description="Retry processing these groups now")
    def retry(self, request, queryset):
        for failure in queryset:
            alert_processing_retry(failure=failure, actor=request.user)
        messages.success(request, f"Processing {queryset.count()} group(s) again.")
