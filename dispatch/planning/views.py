"""Server-rendered dispatch pages: plans of a day, the dispatch board, the drivers' routes."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.navigation import page_roles
from accounts.tenancy import organization_page
from common import clock
from common.errors import FieldValidationError
from dispatch.models import Objective, Plan
from dispatch.network.selectors import hub_list
from dispatch.planning.selectors import (
    next_planning_day,
    plan_get,
    plan_list,
    plan_liveness,
)
from dispatch.planning.serializers import PlanSerializer
from dispatch.planning.services.plans import plan_create

OFFICE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.VIEWER})


class PlanForm(forms.Form):
    hub = forms.ModelChoiceField(queryset=None)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    objective = forms.ChoiceField(choices=Objective.choices, initial=Objective.COST)
    time_budget_s = forms.IntegerField(min_value=1, max_value=600, initial=5, label="Time budget (s)")
    allow_drop = forms.BooleanField(required=False, label="Allow leaving orders out")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hub"].queryset = hub_list(organization=organization)


def _today(organization) -> dt.date:
    return clock.now().astimezone(ZoneInfo(organization.timezone)).date()


@organization_page(roles=page_roles("dispatch-home"))
def dispatch_home(request):
    organization = request.actor.organization
    try:
        day = dt.date.fromisoformat(request.GET["date"]) if request.GET.get("date") else None
    except ValueError:
        day = None
    # Without a date asked for, open on the first day that has orders waiting for a plan.
    day = day or next_planning_day(organization=organization, today=_today(organization))
    form = PlanForm(request.POST or None, organization=organization, initial={"date": day})
    if request.method == "POST":
        if not request.actor.can_write():
            messages.error(request, "Your role can only read.")
        elif form.is_valid():
            data = form.cleaned_data
            try:
                plan = plan_create(
                    actor=request.actor,
                    hub=data["hub"],
                    date=data["date"],
                    objective=data["objective"],
                    time_budget_s=data["time_budget_s"],
                    allow_drop=data["allow_drop"],
                )
            except FieldValidationError as exc:
                for field, errors in exc.errors.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return redirect("dispatch-board", pk=plan.pk)
    context = {
        "day": day,
        "form": form,
        "hubs": hub_list(organization=organization),
        "plans": plan_list(organization=organization, date=day).order_by("hub__name", "wave"),
        "can_write": request.actor.can_write(),
    }
    return render(request, "dispatch/home.html", context)


@organization_page(roles=OFFICE_ROLES)
def plan_board(request, pk):
    organization = request.actor.organization
    try:
        plan = plan_get(organization=organization, plan_id=pk)
    except Plan.DoesNotExist:
        raise Http404("No such plan.") from None
    # A read never writes: a dead worker's plan shows as failed, with a retry button, until swept.
    plan = plan.as_read(now=clock.now(), **plan_liveness())
    context = {"plan": plan, "snapshot": PlanSerializer(plan).data, "can_write": request.actor.can_write()}
    return render(request, "dispatch/board.html", context)


def driver_routes_page(request):
    # The old list of a driver's routes: the driver app at /driver/ shows today's route now.
    return redirect("driver-app", permanent=True)


def basemap_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "osm" / "basemap.geojson"


@require_GET
def basemap_geojson(request):
    """The offline vector basemap (`manage.py build_basemap`); 404 when it was not built."""
    path = basemap_path()
    if not path.is_file():
        raise Http404("No offline basemap has been built.")
    response = FileResponse(path.open("rb"), content_type="application/geo+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response
