from datetime import date

import pytest

from dispatch.models import Driver, Hub, Vehicle

pytestmark = pytest.mark.django_db

HUB = {
    "code": "hel-2",
    "name": "Kalasatama",
    "address": "Työpajankatu 2",
    "lat": 60.187,
    "lng": 24.977,
    "timezone": "Europe/Helsinki",
    "opening_hours": {"mon": [["07:00", "21:00"]]},
    "service_radius_km": 6,
}


def test_admin_creates_a_hub_vehicle_and_driver(admin_client):
    hub = admin_client.post("/api/hubs", HUB, format="json")
    vehicle = admin_client.post(
        "/api/vehicles",
        {
            "name": "Van 1",
            "type": "van",
            "electric": True,
            "capacity_kg": 800,
            "capacity_m3": 6,
            "capacity_parcels": 120,
            "cost_fixed_per_day": "40.00",
            "cost_per_km": "0.25",
            "cost_per_hour": "28.00",
            "emissions_g_co2_per_km": 0,
            "range_km": 180,
            "skills": ["refrigerated"],
            "home_hub": "hel-2",
        },
        format="json",
    )
    driver = admin_client.post(
        "/api/drivers",
        {
            "name": "Mikko Nieminen",
            "phone": "+358401112233",
            "home_hub": "hel-2",
            "skills": ["heavy"],
            "weekly_shifts": {
                "mon": {"start": "08:00", "end": "16:30", "breaks": [{"start": "12:00", "end": "12:30"}]}
            },
        },
        format="json",
    )

    assert (hub.status_code, vehicle.status_code, driver.status_code) == (201, 201, 201), (
        vehicle.json(),
        driver.json(),
    )
    assert vehicle.json()["home_hub"] == "hel-2"
    assert Vehicle.objects.get().range_km == 180
    assert Driver.objects.get().shift_on(date(2026, 11, 30))["end"] == "16:30"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"lat": 91}, "lat", "Ensure this value is less than or equal to 90."),
        ({"timezone": "Mars/Olympus"}, "timezone", "'Mars/Olympus' is not a known IANA time zone."),
        (
            {"opening_hours": {"funday": []}},
            "opening_hours",
            "Use weekday keys mon, tue, wed, thu, fri, sat, sun.",
        ),
        (
            {"opening_hours": {"mon": [["18:00", "08:00"]]}},
            "opening_hours",
            "mon opening hours must end after it starts.",
        ),
        ({"service_radius_km": None}, "service_radius_km", "Give a service radius or a polygon."),
        ({"service_polygon": [[60, 24]]}, "service_polygon", "At least three [lat, lng] points."),
    ],
)
def test_invalid_hubs_are_refused_with_field_messages(admin_client, change, field, message):
    response = admin_client.post("/api/hubs", {**HUB, **change}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][field] == [message]
    assert Hub.objects.count() == 0


def test_duplicate_hub_code_is_refused(admin_client):
    admin_client.post("/api/hubs", HUB, format="json")

    response = admin_client.post("/api/hubs", HUB, format="json")

    assert response.status_code == 400
    assert Hub.objects.count() == 1


def test_vehicle_cannot_point_at_another_tenants_hub(admin_client, other_organization):
    Hub.objects.create(
        organization=other_organization,
        code="theirs",
        name="T",
        address="x",
        lat=60,
        lng=24,
        service_radius_km=1,
    )

    response = admin_client.post("/api/vehicles", {"name": "V", "home_hub": "theirs"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"home_hub": ["Object with code=theirs does not exist."]}


def test_driver_break_outside_shift_is_refused(admin_client):
    admin_client.post("/api/hubs", HUB, format="json")
    shifts = {"tue": {"start": "08:00", "end": "12:00", "breaks": [{"start": "12:30", "end": "13:00"}]}}

    response = admin_client.post(
        "/api/drivers", {"name": "D", "home_hub": "hel-2", "weekly_shifts": shifts}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"weekly_shifts": ["tue: a break must lie inside the shift."]}


def test_hub_with_vehicles_cannot_be_deleted(admin_client):
    hub_id = admin_client.post("/api/hubs", HUB, format="json").json()["id"]
    admin_client.post("/api/vehicles", {"name": "V", "home_hub": "hel-2"}, format="json")

    response = admin_client.delete(f"/api/hubs/{hub_id}")

    assert response.status_code == 409
    assert response.json()["code"] == "still_referenced"
    assert Hub.objects.count() == 1


def test_viewer_cannot_change_the_fleet(viewer_client, admin_client):
    hub_id = admin_client.post("/api/hubs", HUB, format="json").json()["id"]

    assert viewer_client.get(f"/api/hubs/{hub_id}").status_code == 200
    assert viewer_client.patch(f"/api/hubs/{hub_id}", {"name": "Renamed"}, format="json").status_code == 403
    assert Hub.objects.get().name == "Kalasatama"


def test_service_area_by_polygon(organization):
    hub = Hub(
        organization=organization,
        code="p",
        name="P",
        address="x",
        lat=60.17,
        lng=24.94,
        service_polygon=[[60.16, 24.93], [60.16, 24.95], [60.18, 24.95], [60.18, 24.93]],
    )

    assert hub.covers(60.17, 24.94)
    assert not hub.covers(60.19, 24.94)


def test_day_override_replaces_the_weekly_shift(admin_client):
    admin_client.post("/api/hubs", HUB, format="json")
    shifts = {"mon": {"start": "08:00", "end": "16:00", "breaks": []}}
    driver_id = admin_client.post(
        "/api/drivers", {"name": "D", "home_hub": "hel-2", "weekly_shifts": shifts}, format="json"
    ).json()["id"]

    late = admin_client.put(
        f"/api/drivers/{driver_id}/shift-overrides",
        {"date": "2026-11-30", "start": "12:00", "end": "20:00"},
        format="json",
    )
    off = admin_client.put(
        f"/api/drivers/{driver_id}/shift-overrides", {"date": "2026-12-07", "off": True}, format="json"
    )
    bad = admin_client.put(f"/api/drivers/{driver_id}/shift-overrides", {"date": "2026-12-14"}, format="json")

    assert late.status_code == off.status_code == 200
    driver = Driver.objects.get()
    assert driver.shift_on(date(2026, 11, 30)) == {"start": "12:00", "end": "20:00", "breaks": []}
    assert driver.shift_on(date(2026, 12, 7)) is None
    assert driver.shift_on(date(2026, 12, 21)) == shifts["mon"]
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"start": ["A working day needs a start and an end; or set off."]}
    assert admin_client.delete(f"/api/drivers/{driver_id}/shift-overrides/2026-12-07").status_code == 204
    assert Driver.objects.get().shift_on(date(2026, 12, 7)) == shifts["mon"]
