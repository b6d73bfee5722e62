"""The driver's itinerary, read by one hand-written statement on every position."""

import pytest

from dispatch.models import Plan, PlanStatus, Route, Stop, Vehicle
from tests.tracking.conftest import DAY, local, make_order
from tracking.models import StopEta
from tracking.selectors.itinerary import driver_itinerary

pytestmark = pytest.mark.django_db


def test_the_itinerary_has_the_stops_to_serve_in_order_with_their_orders_and_estimates(route, driver):
    first, second = route.stops.order_by("sequence")
    first.status = "done"
    first.save()
    StopEta.objects.create(
        stop=second, eta=local(10, 30), window_start=local(10, 20), window_end=local(10, 40), late=True
    )

    itinerary = driver_itinerary(driver)

    assert itinerary.route == route
    assert (itinerary.route.plan.hub.timezone, itinerary.route.vehicle.type) == ("Europe/Helsinki", "van")
    assert [s.pk for s in itinerary.stops] == [second.pk]
    assert itinerary.last_done == first
    stop = itinerary.next_stop
    assert (stop.order.merchant_reference, stop.order.lat, stop.order.window_end) == ("B", 60.1899, local(12))
    assert stop.planned_arrival == local(10, 20)
    assert itinerary.estimates[second.pk].eta == local(10, 30)
    assert itinerary.estimates[second.pk].late is True
    assert itinerary.estimates[first.pk] is None


def test_fields_not_read_are_loaded_on_access(route, driver):
    stop = driver_itinerary(driver).next_stop

    assert stop.order.customer_name == "Customer A"


def test_the_most_recent_dispatched_plan_wins_and_broken_down_routes_are_skipped(organization, hub, driver, route):
    vehicle = Vehicle.objects.create(organization=organization, name="Van 2", type="bike", home_hub=hub)
    wave_2 = Plan.objects.create(organization=organization, hub=hub, date=DAY, wave=2, status=PlanStatus.DISPATCHED)
    later = Route.objects.create(plan=wave_2, vehicle=vehicle, driver=driver)
    order = make_order(organization, hub, "C", 60.2, hub.lng)
    Stop.objects.create(route=later, order=order, sequence=1, planned_arrival=local(9), planned_departure=local(9, 5))

    assert driver_itinerary(driver).route == later

    Route.objects.filter(pk=later.pk).update(broken_down=True)
    assert driver_itinerary(driver).route == route

    Stop.objects.filter(route=route).update(status="done")
    assert driver_itinerary(driver) is None


def test_a_plan_not_dispatched_gives_no_itinerary(route, driver):
    Plan.objects.filter(pk=route.plan_id).update(status=PlanStatus.OPTIMIZED)

    assert driver_itinerary(driver) is None
