from django.contrib import admin

from orders.models import AddressPoint, Order, OrderEvent, OrderImport


class OrderEventInline(admin.TabularInline):
    """History is append-only: shown, never edited."""

    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = [
        "at",
        "kind",
        "actor",
        "from_status",
        "to_status",
        "reason",
        "lat",
        "lng",
        "details",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "merchant_reference",
        "organization",
        "status",
        "hub",
        "customer_name",
        "address_issue",
        "window_start",
    ]
    list_filter = ["organization", "status", "hub", "address_issue", "type"]
    search_fields = ["merchant_reference", "customer_name", "address_text"]
    # Status moves only through the lifecycle service, never by editing the field here.
    readonly_fields = [
        "status",
        "tracking_token",
        "address_issue",
        "address_issue_detail",
        "geocode_source",
        "geocode_confidence",
    ]
    inlines = [OrderEventInline]

    # Orders change only through the API and pages (services keep history and rules); the admin shows them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ["order", "kind", "at", "actor", "from_status", "to_status"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrderImport)
class OrderImportAdmin(admin.ModelAdmin):
    list_display = [
        "filename",
        "organization",
        "total_rows",
        "created_count",
        "failed_count",
        "created_at",
    ]


@admin.register(AddressPoint)
class AddressPointAdmin(admin.ModelAdmin):
    list_display = ["street", "housenumber", "postcode", "city", "lat", "lng", "source"]
    search_fields = ["street", "postcode"]
