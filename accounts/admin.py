from django.contrib import admin

from .models import PersonalToken, SsoIdentity


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "subject", "email", "last_seen_at")
    list_filter = ("provider",)
    search_fields = ("user__username", "email", "subject")
    readonly_fields = (
        "user",
        "provider",
        "subject",
        "email",
        "groups",
        "first_seen_at",
        "last_seen_at",
    )

    def has_add_permission(self, request):  # noqa: ANN001, ANN201 - made by sign-ins only
        return False


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "key_hash",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )

    def has_add_permission(self, request):  # noqa: ANN001, ANN201 - made in the console
        return False
