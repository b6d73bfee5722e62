"""Exception actions for the control tower's buttons: acknowledge, assign, resolve (JSON).

They go through the tenancy base class and the exception services.
"""

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.models import User
from accounts.tenancy import OrganizationApi
from tracking.models import DeliveryException
from tracking.serializers import DeliveryExceptionSerializer
from tracking.services.exceptions import exception_acknowledge, exception_assign, exception_resolve


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class AssignSerializer(NoteSerializer):
    user_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class ExceptionActionApi(OrganizationApi):
    # The control tower's staff act on exceptions, and their history names who did.
    api_keys_allowed = False
    input_serializer = NoteSerializer

    def organization_queryset(self):
        return DeliveryException.objects.select_related("assigned_to")

    def perform(self, exception, data):
        raise ImproperlyConfigured(f"{type(self).__name__} must define perform()")

    @extend_schema(request=NoteSerializer, responses=DeliveryExceptionSerializer, tags=["tower"])
    def post(self, request, pk):
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exception = self.get_queryset().filter(pk=pk).first()
        if exception is None:
            raise Http404("No such exception.")
        changed = self.perform(exception, serializer.validated_data)
        return Response(DeliveryExceptionSerializer(changed).data)


class ExceptionAcknowledgeApi(ExceptionActionApi):
    def perform(self, exception, data):
        return exception_acknowledge(actor=self.actor, exception=exception, note=data["note"])


class ExceptionResolveApi(ExceptionActionApi):
    def perform(self, exception, data):
        return exception_resolve(actor=self.actor, exception=exception, note=data["note"])


class ExceptionAssignApi(ExceptionActionApi):
    """Assign to a colleague (`user_id`), or to oneself when no user is given."""

    input_serializer = AssignSerializer

    @extend_schema(request=AssignSerializer, responses=DeliveryExceptionSerializer, tags=["tower"])
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, exception, data):
        user = self.actor.user
        if data["user_id"] is not None:
            user = User.objects.filter(organization=self.organization, pk=data["user_id"]).first()
            if user is None:
                raise Http404("No such user in this organization.")
        return exception_assign(actor=self.actor, exception=exception, user=user, note=data["note"])
