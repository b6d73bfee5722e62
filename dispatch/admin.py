from django.contrib import admin

from dispatch.models import (
    Driver,
    DriverShiftOverride,
    Hub,
    Plan,
    PlanEvent,
    Route,
    SlotHold,
    SlotHoldEvent,
    SlotTemplate,
    StopEvent,
    Vehicle,
)
from dispatch.models.jobs import OptimizationJob, OptimizationJobEvent


@admin.register(Hub)
class HubAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "organization", "timezone", "service_radius_km"]
    list_filter = ["organization"]
    search_fields = ["code", "name", "address"]


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "type",
        "electric",
        "home_hub",
        "capacity_kg",
        "capacity_parcels",
        "active",
    ]
    list_filter = ["organization", "type", "electric", "active"]


class ShiftOverrideInline(admin.TabularInline):
    model = DriverShiftOverride
    extra = 0


@admin.register(Driver)
class DriverAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "home_hub", "active"]
    list_filter = ["organization", "home_hub", "active"]
    inlines = [ShiftOverrideInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written only by services (plans, holds, jobs): the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


HISTORY_FIELDS = ["at", "kind", "actor", "from_status", "to_status", "reason", "details"]


class HistoryInline(admin.TabularInline):
    """Append-only history, shown and never edited."""

    extra = 0
    can_delete = False
    fields = readonly_fields = HISTORY_FIELDS

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PlanEventInline(HistoryInline):
    model = PlanEvent


class SlotHoldEventInline(HistoryInline):
    model = SlotHoldEvent


class OptimizationJobEventInline(HistoryInline):
    model = OptimizationJobEvent


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ["hub", "date", "wave", "status", "stop_count", "unassigned_count", "total_distance_m", "version"]
    list_filter = ["organization", "status", "hub"]
    inlines = [PlanEventInline]


@admin.register(StopEvent)
class StopEventAdmin(ReadOnlyAdmin):
    list_display = ["stop", *HISTORY_FIELDS]
    list_filter = ["kind"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Route)
class RouteAdmin(ReadOnlyAdmin):
    list_display = ["plan", "vehicle", "driver", "distance_m", "duration_s", "locked", "broken_down"]


@admin.register(SlotTemplate)
class SlotTemplateAdmin(admin.ModelAdmin):
    list_display = ["hub", "name", "start_time", "end_time", "active"]
    list_filter = ["hub", "active"]


@admin.register(SlotHold)
class SlotHoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "hub", "date", "start", "end", "status", "expires_at"]
    inlines = [SlotHoldEventInline]


@admin.register(OptimizationJob)
class OptimizationJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "organization", "status", "budget_s", "best_cost", "created_at", "finished_at"]
    list_filter = ["status"]
    inlines = [OptimizationJobEventInline]
