from django.contrib import admin

from tracking.models import DeliveryException, ExceptionEvent, LatestPosition


class ExceptionEventInline(admin.TabularInline):
    model = ExceptionEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ["at", "kind", "actor", "from_status", "to_status", "note"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DeliveryException)
class DeliveryExceptionAdmin(admin.ModelAdmin):
    """Handled from the control tower (so the history is kept); the admin shows them."""

    list_display = ["kind", "severity", "status", "message", "created_at"]
    list_filter = ["organization", "kind", "status", "severity"]
    inlines = [ExceptionEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LatestPosition)
class LatestPositionAdmin(admin.ModelAdmin):
    list_display = ["driver", "recorded_at", "lat", "lng", "speed_mps", "battery_pct"]
