"""Network and fleet API: hubs, vehicles, drivers (list, create, retrieve, update, delete)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from accounts.tenancy import OrganizationApi
from dispatch.models import Driver, Hub, Vehicle
from dispatch.network import selectors
from dispatch.network.serializers import DriverSerializer, HubSerializer, ShiftOverrideSerializer, VehicleSerializer
from dispatch.network.services import driver_shift_override_set, fleet_delete, fleet_save


class FleetApi(OrganizationApi):
    model: type
    selector = None

    def organization_queryset(self):
        return type(self).selector(organization=self.organization)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "organization": self.organization}


class FleetCollectionApi(FleetApi):
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = fleet_save(organization=self.organization, instance=self.model(), data=serializer.validated_data)
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)


class FleetDetailApi(FleetApi):
    def get(self, request, pk):
        return Response(self.get_serializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    def patch(self, request, pk):
        instance = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        instance = fleet_save(organization=self.organization, instance=instance, data=serializer.validated_data)
        return Response(self.get_serializer(instance).data)

    def delete(self, request, pk):
        fleet_delete(instance=get_object_or_404(self.get_queryset(), pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _pair(model, serializer, selector, tag):
    collection = extend_schema_view(
        # A GenericAPIView's `get` reads as "retrieve one" to drf-spectacular; this one lists.
        get=extend_schema(tags=[tag], operation_id=f"{tag}_list", responses=serializer(many=True)),
        post=extend_schema(tags=[tag], operation_id=f"{tag}_create", responses={201: serializer}),
    )(
        type(
            f"{model.__name__}CollectionApi",
            (FleetCollectionApi,),
            {"model": model, "serializer_class": serializer, "selector": staticmethod(selector)},
        )
    )
    detail = extend_schema_view(
        get=extend_schema(tags=[tag]), patch=extend_schema(tags=[tag]), delete=extend_schema(tags=[tag])
    )(
        type(
            f"{model.__name__}DetailApi",
            (FleetDetailApi,),
            {"model": model, "serializer_class": serializer, "selector": staticmethod(selector)},
        )
    )
    return collection, detail


HubCollectionApi, HubDetailApi = _pair(Hub, HubSerializer, selectors.hub_list, "hubs")
VehicleCollectionApi, VehicleDetailApi = _pair(Vehicle, VehicleSerializer, selectors.vehicle_list, "vehicles")
DriverCollectionApi, DriverDetailApi = _pair(Driver, DriverSerializer, selectors.driver_list, "drivers")


class DriverShiftOverrideApi(FleetApi):
    """PUT a date's shift (an upsert): other hours, or a day off."""

    selector = staticmethod(selectors.driver_list)

    @extend_schema(tags=["drivers"], request=ShiftOverrideSerializer, responses=DriverSerializer)
    def put(self, request, pk):
        driver = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = ShiftOverrideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        driver_shift_override_set(driver=driver, data=serializer.validated_data)
        return Response(DriverSerializer(self.get_queryset().get(pk=pk), context=self.get_serializer_context()).data)


class DriverShiftOverrideDeleteApi(FleetApi):
    """DELETE a date's override: the weekly pattern applies again."""

    selector = staticmethod(selectors.driver_list)

    @extend_schema(
        tags=["drivers"],
        responses={204: None},
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, OpenApiParameter.PATH)],
    )
    def delete(self, request, pk, date):
        driver = get_object_or_404(self.get_queryset(), pk=pk)
        get_object_or_404(driver.shift_overrides, date=date).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
