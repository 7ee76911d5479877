from django.contrib import admin

from .models import CheckTemplateItem, DeployIntegration, Deployment, MaintenanceWindow


@admin.register(CheckTemplateItem)
class CheckTemplateItemAdmin(admin.ModelAdmin):
    list_display = ("label", "phase", "order", "required", "auto")
    list_editable = ("order", "required")
    list_filter = ("phase",)


@admin.register(DeployIntegration)
class DeployIntegrationAdmin(admin.ModelAdmin):
    """Tokens are made by ``deployments.services.integration_create`` (shown once)."""

    list_display = ("name", "source", "token_hint", "active", "last_used_at")
    readonly_fields = ("token_hint", "last_used_at")

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("__str__", "environment", "kind", "status", "started_at")
    list_filter = ("environment", "kind", "status")

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False  # the log is changed through its services only


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "starts_at", "ends_at", "status", "notice_sent_at")
    list_filter = ("kind", "status")
    fields = ("title", "public_note")
