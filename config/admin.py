"""Django's admin sees every tenant's rows, so it is for platform operators (superusers) only.

An organisation's admin (Role.ADMIN, even with is_staff) manages their own tenant in the app;
letting staff into /admin/ would show them every other tenant.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class WaypointAdminSite(admin.AdminSite):
    site_header = "Waypoint platform administration"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser


class WaypointAdminConfig(AdminConfig):
    default_site = "config.admin.WaypointAdminSite"
