from django.contrib import admin

from dispatch.models import Driver, DriverShiftOverride, Hub, Vehicle


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
