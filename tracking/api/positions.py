"""Drivers' queued GPS fixes, sent in batches when the WebSocket is down (`/api/driver/positions`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy import OrganizationApi
from common.errors import ConflictError
from tracking.serializers import FixSerializer
from tracking.services.positions import position_receive


class PositionBatchSerializer(serializers.Serializer):
    positions = FixSerializer(many=True, allow_empty=False, max_length=2000)


class PositionBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.ListField(child=serializers.DictField())


def driver_of(actor):
    driver = getattr(actor.user, "driver_profile", None) if actor.user else None
    if driver is None or not driver.active:
        raise ConflictError("This account has no active driver profile.", code="not_a_driver")
    return driver


class DriverPositionBatchApi(OrganizationApi):
    """Drivers send queued GPS fixes in batches (the fallback when the WebSocket is down)."""

    allowed_roles = write_roles = frozenset({Role.DRIVER})
    api_keys_allowed = False
    api_key_refusal = "Positions come from drivers' own sign-in, not API keys."

    @extend_schema(request=PositionBatchSerializer, responses=PositionBatchResultSerializer, tags=["driver"])
    def post(self, request):
        serializer = PositionBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The same path as the driver socket: recorded, ETAs refreshed, published to the audiences.
        result = position_receive(driver=driver_of(self.actor), fixes=serializer.validated_data["positions"])
        return Response(
            {"accepted": len(result.accepted), "duplicates": result.duplicates, "rejected": result.rejected}
        )
