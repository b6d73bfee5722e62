"""The shared lifecycle helper: tables are checked when declared, and history is append-only."""

import pytest

from common.lifecycle import AppendOnlyError, Lifecycle
from dispatch.models import PlanEvent, SlotHoldEvent, StopEvent
from dispatch.models.jobs import OptimizationJobEvent
from tests.factories.fleet import OptimizationJobFactory, PlanFactory, SlotHoldFactory, StopFactory
from tracking.models import ExceptionEvent
from tracking.services.exceptions import exception_raise


def test_a_table_moving_to_an_undeclared_status_is_refused():
    with pytest.raises(ValueError, match=r"thing: moves to undeclared statuses \['gone'\]"):
        Lifecycle("thing", {"new": ["gone"]}, {"gone": "thing_gone"})


def test_a_table_without_an_event_for_a_status_it_reaches_is_refused():
    with pytest.raises(ValueError, match=r"thing: no event name for arriving in \['done'\]"):
        Lifecycle("thing", {"new": ["done"], "done": []}, {})


def plan_event(hub):
    return PlanEvent.objects.create(plan=PlanFactory(hub=hub), kind="plan_created", actor="system")


def stop_event(hub):
    return StopEvent.objects.create(stop=StopFactory(hub=hub), kind="stop_done", actor="system")


def hold_event(hub):
    return SlotHoldEvent.objects.create(hold=SlotHoldFactory(hub=hub), kind="slot_hold_created", actor="system")


def job_event(hub):
    job = OptimizationJobFactory(organization=hub.organization)
    return OptimizationJobEvent.objects.create(job=job, kind="optimization_job_created", actor="system")


def exception_event(hub):
    exception_raise(organization=hub.organization, kind="late_risk", cause="late_risk:stop:1", message="Late")
    return ExceptionEvent.objects.get()


HISTORIES = [plan_event, stop_event, hold_event, job_event, exception_event]


@pytest.mark.django_db
@pytest.mark.parametrize("make", HISTORIES, ids=[make.__name__ for make in HISTORIES])
def test_history_rows_cannot_be_changed_or_deleted(hub, make):
    event = make(hub)
    model = type(event)
    event.actor = "rewritten"

    with pytest.raises(AppendOnlyError, match="append-only"):
        event.save()
    with pytest.raises(AppendOnlyError, match="append-only"):
        event.delete()
    with pytest.raises(AppendOnlyError, match="append-only"):
        model.objects.filter(pk=event.pk).update(actor="rewritten")
    with pytest.raises(AppendOnlyError, match="append-only"):
        model.objects.filter(pk=event.pk).delete()
    assert model.objects.get(pk=event.pk).actor == "system"


@pytest.mark.django_db
def test_a_history_goes_with_its_subject(hub):
    """Re-optimizing deletes the routes it replaces; their stops' history goes with them."""
    event = stop_event(hub)

    event.stop.route.delete()

    assert StopEvent.objects.count() == 0
