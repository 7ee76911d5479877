from django.contrib import admin

from .models import DrillPolicy, DrillTemplateStep


@admin.register(DrillPolicy)
class DrillPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "reminder_days", "notify_email")


@admin.register(DrillTemplateStep)
class DrillTemplateStepAdmin(admin.ModelAdmin):
    list_display = ("order", "title", "owner_role", "expected_minutes", "marks")
    ordering = ("order",)
