"""Every move of the plan lifecycle, straight to its one transition service."""

import pytest

from dispatch.models import PLAN_TRANSITIONS, Plan, PlanEvent, PlanStatus
from dispatch.models.planning import InvalidPlanTransition
from dispatch.planning.services.plans import plan_create
from dispatch.planning.services.transitions import plan_transition
from tests.factories.fleet import DAY

pytestmark = pytest.mark.django_db
P = PlanStatus

ALLOWED = [
    (P.DRAFT, P.OPTIMIZING),
    (P.OPTIMIZING, P.OPTIMIZED),
    (P.OPTIMIZING, P.FAILED),
    (P.OPTIMIZED, P.OPTIMIZING),
    (P.OPTIMIZED, P.DISPATCHED),
    (P.FAILED, P.OPTIMIZING),
]
FORBIDDEN = [(a, b) for a in P.values for b in P.values if (a, b) not in ALLOWED]


def test_the_table_is_exactly_the_documented_lifecycle():
    assert {(a, b) for a, targets in PLAN_TRANSITIONS.items() for b in targets} == set(ALLOWED)


@pytest.fixture
def plan(actor, hub):
    return plan_create(actor=actor, hub=hub, date=DAY)


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_moves_change_status_bump_the_version_and_append_one_event(actor, plan, announced, source, target):
    Plan.objects.filter(pk=plan.pk).update(status=source)
    before = PlanEvent.objects.count()

    moved = plan_transition(actor=actor, plan=plan, to_status=target, reason="test")

    stored = Plan.objects.get(pk=plan.pk)
    assert (stored.status, stored.version) == (target, 2)
    assert moved.status == target
    assert PlanEvent.objects.count() == before + 1
    event = PlanEvent.objects.latest("id")
    assert (event.plan_id, event.kind, event.actor, event.from_status, event.to_status, event.reason) == (
        plan.pk,
        f"plan_{target}",
        "user:acme-dispatcher",
        source,
        target,
        "test",
    )
    payload = {"plan_id": plan.pk, "organization_id": plan.organization_id, "hub_id": plan.hub_id, "date": "2026-12-01"}
    assert announced == [(f"plan_{target}", payload)]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}-x->{b}" for a, b in FORBIDDEN])
def test_forbidden_moves_are_refused_and_change_nothing(plan, announced, source, target):
    Plan.objects.filter(pk=plan.pk).update(status=source)
    before = PlanEvent.objects.count()

    with pytest.raises(InvalidPlanTransition) as refusal:
        plan_transition(actor=None, plan=plan, to_status=target)

    allowed = sorted(PLAN_TRANSITIONS[source])
    assert refusal.value.details == {"current": source, "target": target, "allowed": allowed}
    assert refusal.value.message == f"A {source} plan cannot become {target}; allowed: {', '.join(allowed) or 'none'}."
    stored = Plan.objects.get(pk=plan.pk)
    assert (stored.status, stored.version) == (source, 1)
    assert PlanEvent.objects.count() == before
    assert announced == []


def test_an_optimized_plan_tells_its_history(optimized_plan):
    plan = optimized_plan(parcels=5)

    history = list(plan.events.values_list("kind", "actor", "from_status", "to_status"))

    assert history == [
        ("plan_created", "user:acme-dispatcher", "", "draft"),
        ("plan_optimizing", "user:acme-dispatcher", "draft", "optimizing"),
        ("plan_optimized", "system", "optimizing", "optimized"),
    ]
