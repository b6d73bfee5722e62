import datetime as dt

import pytest

from dispatch.models import Driver, Plan, PlanStatus, Route, Stop, Vehicle
from orders.models import Order
from tests.clock import TODAY

# The suite's today (Monday 2026-11-30, Helsinki, UTC+2): a position moves only a route of today
# at its hub, active from an hour before its start (08:30 local; the clock starts at 08:00).
DAY = TODAY
UTC = dt.UTC


def local(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour - 2, minute), tzinfo=UTC)


def make_order(organization, hub, reference, lat, lng, window=(10, 12), service=5):
    start, end = local(window[0]), local(window[1])
    return Order.objects.create(
        organization=organization,
        hub=hub,
        merchant_reference=reference,
        customer_name=f"Customer {reference}",
        customer_phone="+358400000000",
        address_text=f"{reference} street",
        lat=lat,
        lng=lng,
        status="dispatched",
        time_windows=[{"start": start.isoformat(), "end": end.isoformat()}],
        window_start=start,
        window_end=end,
        delivery_date=DAY,
        service_minutes=service,
    )


@pytest.fixture
def driver(organization, hub, driver_user):
    return Driver.objects.create(organization=organization, user=driver_user, name="Mikko Nieminen", home_hub=hub)


@pytest.fixture
def route(organization, hub, driver):
    """A dispatched van route: two stops about 1.1 km and 2.2 km north of the hub."""
    vehicle = Vehicle.objects.create(organization=organization, name="Van 1", type="van", home_hub=hub)
    plan = Plan.objects.create(organization=organization, hub=hub, date=DAY, status=PlanStatus.DISPATCHED)
    route = Route.objects.create(plan=plan, vehicle=vehicle, driver=driver, start_time=local(8, 30), end_time=local(11))
    for sequence, (ref, lat) in enumerate([("A", 60.1799), ("B", 60.1899)], start=1):
        order = make_order(organization, hub, ref, lat, hub.lng)
        Stop.objects.create(
            route=route,
            order=order,
            sequence=sequence,
            planned_arrival=local(10, 10 * sequence),
            planned_departure=local(10, 10 * sequence + 5),
        )
    return route


def eta_refresh(*, driver, at: dt.datetime) -> list[dict]:
    """Re-estimate the driver's stops from the stored latest position, as a position would."""
    from tracking.models import LatestPosition
    from tracking.selectors.itinerary import driver_itinerary
    from tracking.services.eta import etas_update

    latest = LatestPosition.objects.filter(driver=driver).first()
    itinerary = driver_itinerary(driver)
    if latest is None or itinerary is None:
        return []
    return etas_update(itinerary, position=(latest.lat, latest.lng), recorded_at=latest.recorded_at, now=at)
