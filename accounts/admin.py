from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import ApiKey, Organization, User


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(User)
class WaypointUserAdmin(UserAdmin):
    list_display = ["username", "organization", "role", "is_staff", "is_active"]
    list_filter = ["organization", "role", "is_staff"]
    fieldsets = [*UserAdmin.fieldsets, ("Organization", {"fields": ["organization", "role"]})]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created through the app (the secret is shown once there); admins can revoke."""

    list_display = [
        "name",
        "organization",
        "prefix",
        "scope",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["organization", "scope"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
