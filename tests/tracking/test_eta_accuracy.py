"""The estimates customers were shown are kept (EtaPrediction), and the day's ETA error at 10, 30
and 60 minutes out is measured from them against the stops' actual arrivals."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from common.lifecycle import AppendOnlyError
from dispatch.execution.services.stops import stop_arrive
from tests.tracking.conftest import DAY, eta_refresh, local
from tracking.models import EtaPrediction, LatestPosition, StopEta
from tracking.selectors.eta_accuracy import eta_accuracy
from tracking.services.positions import position_receive

pytestmark = pytest.mark.django_db


def at_position(driver, lat, lng, when):
    LatestPosition.objects.update_or_create(
        driver=driver, defaults={"organization_id": driver.organization_id, "recorded_at": when, "lat": lat, "lng": lng}
    )


def predict(stop, *, made: dt.datetime, arrival: dt.datetime) -> EtaPrediction:
    return EtaPrediction.objects.create(
        stop=stop,
        predicted_arrival=arrival,
        window_start=arrival - dt.timedelta(minutes=5),
        window_end=arrival + dt.timedelta(minutes=5),
        made_at=made,
        horizon_minutes=round((arrival - made).total_seconds() / 60),
    )


def test_each_estimate_shown_is_kept_and_an_unchanged_one_adds_nothing(route, driver, hub):
    a, b = route.stops.order_by("sequence")
    at_position(driver, hub.lat, hub.lng, local(9, 0))
    eta_refresh(driver=driver, at=local(9, 0))
    first = StopEta.objects.get(stop=a).eta

    eta_refresh(driver=driver, at=local(9, 0))  # the same estimate: nothing shown changes
    assert EtaPrediction.objects.count() == 2

    at_position(driver, 60.30, hub.lng, local(9, 5))  # 15 km away: A's estimate moves
    eta_refresh(driver=driver, at=local(9, 5))

    kept = list(EtaPrediction.objects.filter(stop=a).order_by("made_at"))
    assert [(p.predicted_arrival, p.made_at, p.source) for p in kept] == [
        (first, local(9, 0), "position"),
        (StopEta.objects.get(stop=a).eta, local(9, 5), "position"),
    ]
    assert kept[0].horizon_minutes == round((first - local(9, 0)).total_seconds() / 60)
    assert (kept[1].window_start, kept[1].window_end) == (
        StopEta.objects.get(stop=a).window_start,
        StopEta.objects.get(stop=a).window_end,
    )
    # B is served from its window's start (10:00) either way: its estimate did not move, nor its record.
    assert EtaPrediction.objects.filter(stop=b).count() == 1
    with pytest.raises(AppendOnlyError):
        EtaPrediction.objects.filter(stop=a).update(predicted_arrival=local(12))


def test_a_position_that_moves_estimates_adds_one_insert_for_all_of_them(route, driver):
    near = {"recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=20), "lat": 60.1749, "lng": 24.9384}
    position_receive(driver=driver, fixes=[near])
    far = {**near, "recorded_at": near["recorded_at"] + dt.timedelta(seconds=5), "lat": 60.45}

    with CaptureQueriesContext(connection) as queries:
        position_receive(driver=driver, fixes=[far])

    inserts = [q["sql"] for q in queries.captured_queries if "tracking_etaprediction" in q["sql"]]
    assert len(inserts) == 1
    assert inserts[0].startswith("INSERT")
    # Both stops' first estimates, then A's moved one (B is served from its window's start either way).
    assert EtaPrediction.objects.count() == 3


def test_eta_error_is_the_estimate_in_force_at_each_horizon_minus_the_arrival(route, organization):
    a, b = route.stops.order_by("sequence")
    predict(a, made=local(9, 10), arrival=local(10, 30))  # in force 60 min out (09:20): +10
    predict(a, made=local(9, 45), arrival=local(10, 25))  # in force 30 min out (09:50): +5
    predict(a, made=local(10, 5), arrival=local(10, 18))  # in force 10 min out (10:10): -2
    predict(a, made=local(10, 15), arrival=local(10, 21))  # after 10 min out: no horizon uses it
    predict(b, made=local(10, 20), arrival=local(10, 43))  # B's first estimate: only 10 min out, +3
    stop_arrive(actor=None, stop=a, at=local(10, 20))
    stop_arrive(actor=None, stop=b, at=local(10, 40))
    predict(a, made=local(10, 25), arrival=local(10, 20))  # made after the arrival: never in force

    accuracy = eta_accuracy(organization=organization, day=DAY)

    assert accuracy.stops == 2
    assert [(h.minutes, h.stops, h.mean_min, h.mae_min, h.p90_min) for h in accuracy.horizons] == [
        (10, 2, 0.5, 2.5, 3.0),
        (30, 1, 5.0, 5.0, 5.0),
        (60, 1, 10.0, 10.0, 10.0),
    ]


def test_stops_not_arrived_and_other_organizations_or_days_do_not_count(route, organization, other_organization):
    a, _b = route.stops.order_by("sequence")
    predict(a, made=local(9, 0), arrival=local(10, 0))  # a prediction, but no arrival yet

    assert eta_accuracy(organization=organization, day=DAY).stops == 0
    stop_arrive(actor=None, stop=a, at=local(10, 5))
    assert eta_accuracy(organization=organization, day=DAY).stops == 1
    assert eta_accuracy(organization=organization, day=DAY + dt.timedelta(days=1)).stops == 0
    assert eta_accuracy(organization=other_organization, day=DAY).stops == 0


def test_the_tower_shows_todays_eta_error(route, viewer_user):
    a, _b = route.stops.order_by("sequence")
    predict(a, made=local(9, 0), arrival=local(10, 24))
    stop_arrive(actor=None, stop=a, at=local(10, 20))
    client = Client()
    client.force_login(viewer_user)

    panel = client.get("/tower/").content.decode()

    assert "ETA error today" in panel
    assert '<td data-stat="p90">4.0</td>' in panel
    assert "over 1 stop arrived" in panel


def test_the_tower_says_when_no_stop_has_arrived_yet(route, viewer_user):
    client = Client()
    client.force_login(viewer_user)

    assert "No stop arrived with an estimate yet." in client.get("/tower/").content.decode()
