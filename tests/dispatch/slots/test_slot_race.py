"""Races against real Postgres: two checkouts for the last place of a slot never both win."""

# Shared fixtures are imported from test_slot_fixtures; pyflakes reads their use as arguments as
# redefinitions.
# ruff: noqa: F811

import pytest
from rest_framework.test import APIClient

from dispatch.models import SlotCounter, SlotHold
from tests.concurrency import run_together
from tests.dispatch.slots.test_slot_fixtures import DAY, NEAR, crew, frozen, make_order, make_template  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def checkout(api_key, template):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw}")
    body = {"hub": "hel-1", "template": template.pk, "date": str(DAY), "lat": NEAR[0], "lng": NEAR[1]}
    return lambda: client.post("/api/slots/holds", body, format="json")


def test_two_checkouts_for_the_last_place_one_wins(postgres, api_key, hub, crew, frozen):
    """The slot has one place left; both requests create the counter row and lock it at once."""
    template = make_template(hub, "10:00", "12:00", manual_cap=2)
    make_order(hub, "SO-1")

    responses = run_together([checkout(api_key, template), checkout(api_key, template)])

    assert sorted(r.status_code for r in responses) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] == "slot_full"
    assert SlotHold.objects.count() == 1
    assert SlotCounter.objects.get().bookings == 1


def test_many_checkouts_fill_a_slot_exactly(postgres, api_key, hub, crew, frozen):
    template = make_template(hub, "10:00", "12:00", manual_cap=3)

    responses = run_together([checkout(api_key, template) for _ in range(6)])

    assert sorted(r.status_code for r in responses) == [201, 201, 201, 409, 409, 409]
    assert SlotHold.objects.count() == 3
