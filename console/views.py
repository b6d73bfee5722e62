"""Pages that read across apps (the home dashboard); the ops console will live here too."""

from django.db.models import Count
from django.shortcuts import redirect, render

from accounts.navigation import EVERYONE, page_roles
from accounts.tenancy import organization_page
from dispatch.network.selectors import driver_list, hub_list, vehicle_list
from orders.selectors import order_list


# Everyone signs in to `/`; only the office sees the overview, which lists the organization's
# orders with customers' names and addresses. A driver (the one role outside the office) lands
# on their own app instead.
@organization_page(roles=EVERYONE)
def home(request):
    if request.actor.role not in page_roles("home"):
        return redirect("driver-app")
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
