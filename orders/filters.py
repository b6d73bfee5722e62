import django_filters
from django.db.models import Q

from orders.lifecycle import OrderStatus
from orders.models import Order


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    hub = django_filters.CharFilter(field_name="hub__code", help_text="Hub code")
    date = django_filters.DateFilter(field_name="delivery_date", help_text="Delivery date (hub's local date)")
    window_from = django_filters.IsoDateTimeFilter(
        field_name="window_end",
        lookup_expr="gt",
        help_text="Orders whose windows end after this time",
    )
    window_to = django_filters.IsoDateTimeFilter(
        field_name="window_start",
        lookup_expr="lt",
        help_text="Orders whose windows start before this time",
    )
    has_address_issue = django_filters.BooleanFilter(method="filter_address_issue")
    q = django_filters.CharFilter(method="search", help_text="Text in reference, customer or address")

    class Meta:
        model = Order
        fields = ["status", "hub", "date", "type"]

    def filter_address_issue(self, queryset, name, value):
        return queryset.exclude(address_issue="") if value else queryset.filter(address_issue="")

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(merchant_reference__icontains=value)
            | Q(customer_name__icontains=value)
            | Q(address_text__icontains=value)
        )
