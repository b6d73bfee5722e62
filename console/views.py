"""Pages that read across apps (the home dashboard); the ops console will live here too."""

from django.db.models import Count
from django.shortcuts import render

from accounts.tenancy import organization_page
from dispatch.network.selectors import driver_list, hub_list, vehicle_list
from orders.selectors import order_list


@organization_page()
def home(request):
    organization = request.actor.organization
    orders = order_list(organization=organization)
    context = {
        "organization": organization,
        "hubs": hub_list(organization=organization),
        "vehicle_count": vehicle_list(organization=organization).count(),
        "driver_count": driver_list(organization=organization).count(),
        "order_count": orders.count(),
        "status_counts": orders.order_by().values("status").annotate(n=Count("id")).order_by("status"),
        "issue_count": orders.exclude(address_issue="").count(),
        "recent_orders": orders[:10],
    }
    return render(request, "console/home.html", context)
