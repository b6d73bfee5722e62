import datetime as dt

import pytest

from dispatch.models import Driver
from tracking.models import DriverPosition, LatestPosition
from tracking.services.positions import position_history_purge

pytestmark = pytest.mark.django_db
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def driver(driver_user, hub):
    return Driver.objects.create(organization=hub.organization, user=driver_user, name="Mikko Nieminen", home_hub=hub)


def fix(seconds_ago: int, lat=60.17, lng=24.94, **extra) -> dict:
    return {"recorded_at": (NOW - dt.timedelta(seconds=seconds_ago)).isoformat(), "lat": lat, "lng": lng, **extra}


def test_batch_is_stored_and_the_latest_is_the_newest(driver_client, driver):
    response = driver_client.post(
        "/api/driver/positions",
        {"positions": [fix(30), fix(20, lat=60.171), fix(10, lat=60.172, speed_mps=8.5, battery_pct=77)]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    latest = LatestPosition.objects.get(driver=driver)
    assert (latest.lat, latest.speed_mps, latest.battery_pct) == (60.172, 8.5, 77)


def test_resent_batch_is_reported_as_duplicates(driver_client, driver):
    body = {"positions": [fix(30), fix(20)]}
    driver_client.post("/api/driver/positions", body, format="json")

    again = driver_client.post("/api/driver/positions", {"positions": [fix(30), fix(20), fix(20)]}, format="json")

    assert again.json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    assert DriverPosition.objects.count() == 2


def test_out_of_order_fix_goes_to_history_but_not_latest(driver_client, driver):
    driver_client.post("/api/driver/positions", {"positions": [fix(10, lat=60.18)]}, format="json")

    late = driver_client.post("/api/driver/positions", {"positions": [fix(60, lat=60.10)]}, format="json")

    assert late.json()["accepted"] == 1
    assert DriverPosition.objects.count() == 2
    assert LatestPosition.objects.get(driver=driver).lat == 60.18


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (fix(5, lat=91), "invalid_coordinates"),
        (fix(5, lat=0.0, lng=0.0), "invalid_coordinates"),
        (fix(-3600), "recorded_in_the_future"),
        (fix(40 * 86400), "older_than_retention"),
        (fix(5, speed_mps=120), "impossible_speed"),
        (fix(5, accuracy_m=-2), "invalid_accuracy"),
    ],
)
def test_impossible_fixes_are_rejected_alone_with_a_reason(driver_client, driver, bad, reason):
    response = driver_client.post("/api/driver/positions", {"positions": [fix(50), bad]}, format="json")

    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": [{"index": 1, "reason": reason}]}
    assert DriverPosition.objects.count() == 1


def test_malformed_batch_is_a_400_with_field_messages(driver_client, driver):
    response = driver_client.post(
        "/api/driver/positions", {"positions": [{"lat": "north", "lng": 24.9}]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "positions[0].recorded_at": ["This field is required."],
        "positions[0].lat": ["A valid number is required."],
    }


def test_only_drivers_send_positions(dispatcher_client, merchant_client, driver):
    assert dispatcher_client.post("/api/driver/positions", {"positions": [fix(5)]}, format="json").status_code == 403
    assert merchant_client.post("/api/driver/positions", {"positions": [fix(5)]}, format="json").status_code == 403


def test_driver_user_without_profile_is_told(driver_client, hub):
    response = driver_client.post("/api/driver/positions", {"positions": [fix(5)]}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "not_a_driver"


def test_history_older_than_retention_is_purged(driver, settings):
    settings.WAYPOINT_POSITION_RETENTION_DAYS = 7
    old = DriverPosition.objects.create(
        organization=driver.organization, driver=driver, recorded_at=NOW - dt.timedelta(days=8), lat=60.1, lng=24.9
    )
    DriverPosition.objects.create(organization=driver.organization, driver=driver, recorded_at=NOW, lat=60.1, lng=24.9)

    assert position_history_purge() == 1
    assert not DriverPosition.objects.filter(pk=old.pk).exists()
