"""Shared set-up of the planning tests: the dispatcher acting, and an optimized plan."""

import pytest

from accounts.tenancy import Actor
from dispatch.models import Plan
from dispatch.planning.services.plans import plan_create, plan_optimize
from tests.factories.fleet import DAY, small_fleet


@pytest.fixture
def actor(dispatcher_user):
    return Actor(organization=dispatcher_user.organization, user=dispatcher_user)


@pytest.fixture
def optimized_plan(actor, hub, django_capture_on_commit_callbacks):
    """`optimized_plan(parcels=N)`: two vans of N parcels and six one-parcel orders, optimized for DAY."""

    def make(*, parcels: int) -> Plan:
        small_fleet(hub, parcels=parcels)
        plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)
        with django_capture_on_commit_callbacks(execute=True):
            plan_optimize(actor=actor, plan=plan)
        return Plan.objects.get(pk=plan.pk)

    return make
