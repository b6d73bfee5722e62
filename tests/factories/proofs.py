"""Proof-of-delivery helpers: real image bytes made with Pillow, and a driver's dispatched route."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.services import user_create
from dispatch.models import Driver, PlanStatus, Route
from tests.factories.fleet import DriverFactory, OrderFactory, PlanFactory, StopFactory, VehicleFactory


def image_bytes(image_format: str = "JPEG", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, image_format)
    return buffer.getvalue()


def upload(content: bytes, name: str = "proof.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def driver_for(hub, username: str) -> Driver:
    """A driver with a sign-in of its own, based at `hub`."""
    user = user_create(organization=hub.organization, username=username, password="pw-12345!", role="driver")
    return DriverFactory(home_hub=hub, user=user)


def dispatched_route(hub, driver: Driver, *, stops: int = 1) -> Route:
    """A dispatched route of `driver` with `stops` planned stops, each for an order out for delivery."""
    plan = PlanFactory(hub=hub, status=PlanStatus.DISPATCHED)
    route = Route.objects.create(plan=plan, vehicle=VehicleFactory(home_hub=hub), driver=driver)
    for sequence in range(1, stops + 1):
        StopFactory(hub=hub, route=route, sequence=sequence, order=OrderFactory(hub=hub, status="out_for_delivery"))
    return route
