from django.contrib import admin

from .models import ActionItem, PostMortem, PostMortemPolicy, PostMortemRevision


@admin.register(PostMortemPolicy)
class PostMortemPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "required_severities", "schedule_within", "allow_self_approval"]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001 - one row only
        return not PostMortemPolicy.objects.exists() and super().has_add_permission(request)


class RevisionInline(admin.TabularInline):
    model = PostMortemRevision
    extra = 0
    fields = ["number", "approved_by_name", "approved_at", "comment"]
    readonly_fields = fields
    can_delete = False


@admin.register(PostMortem)
class PostMortemAdmin(admin.ModelAdmin):
    list_display = ["incident", "status", "revision", "required", "due_at", "meeting_at"]
    list_filter = ["status", "required"]
    search_fields = ["incident__number", "incident__title"]
    raw_id_fields = ["incident", "submitted_by", "updated_by"]
    filter_horizontal = ["attendees", "impact_services"]
    inlines = [RevisionInline]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["description", "owner", "due_date", "priority", "status"]
    list_filter = ["status", "priority"]
    search_fields = ["description"]
    raw_id_fields = ["postmortem", "owner", "created_by"]
