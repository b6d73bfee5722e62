from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.models import Role
from accounts.navigation import page_roles
from accounts.tenancy import organization_page
from orders import selectors
from orders.csv_import import COLUMNS, CsvFileError, parse_orders_csv
from orders.filters import OrderFilter
from orders.intake import intake_csv

OPS = frozenset({Role.ADMIN, Role.DISPATCHER, Role.VIEWER})


@organization_page(roles=page_roles("order-list"))
def order_list(request):
    orders = OrderFilter(request.GET, queryset=selectors.order_list(organization=request.actor.organization))
    page = Paginator(orders.qs, 50).get_page(request.GET.get("page"))
    return render(request, "orders/list.html", {"filter": orders, "page": page})


@organization_page(roles=OPS)
def order_detail(request, pk):
    order = get_object_or_404(selectors.order_list(organization=request.actor.organization), pk=pk)
    return render(
        request,
        "orders/detail.html",
        {"order": order, "events": selectors.order_events(order=order)},
    )


class CsvImportForm(forms.Form):
    file = forms.FileField(help_text="UTF-8 CSV with a header row")


@organization_page(roles=page_roles("order-import"), write=True)
def order_import(request):
    form = CsvImportForm(request.POST or None, request.FILES or None)
    context = {"form": form, "columns": COLUMNS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = parse_orders_csv(upload.read())
        except CsvFileError as error:
            form.add_error("file", str(error))
        else:
            record, outcome = intake_csv(actor=request.actor, rows=rows, filename=upload.name, request=request)
            context.update(record=record, outcome=outcome)
    return render(request, "orders/import.html", context)


@organization_page(roles=OPS)
def order_import_errors(request, pk):
    record = get_object_or_404(selectors.order_import_list(organization=request.actor.organization), pk=pk)
    response = HttpResponse(record.error_report_csv, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="import-{record.pk}-errors.csv"'
    return response


def order_import_template(request):
    response = HttpResponse(",".join(COLUMNS) + "\n", content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="waypoint-orders-template.csv"'
    return response
