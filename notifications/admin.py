from django.contrib import admin

from notifications.models import Message, NotificationRule, NotificationSettings, OptOut


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("organization", "language", "quiet_hours_start", "quiet_hours_end", "arriving_soon_minutes")


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    list_display = ("organization", "kind", "channel", "enabled")
    list_filter = ("kind", "channel", "enabled")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """A log: read here, written only by the notification services."""

    list_display = ("created_at", "organization", "order", "kind", "channel", "recipient", "status", "attempts")
    list_filter = ("status", "kind", "channel")
    search_fields = ("recipient", "order__merchant_reference", "provider_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ("organization", "channel", "contact", "created_at")
    search_fields = ("contact",)
