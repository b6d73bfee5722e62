"""Proofs over the API: the driver app uploads them, ops and merchants list them with signed URLs."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy import OrganizationApi
from common.errors import ConflictError
from dispatch.execution.proofs import order_proof_list, proof_stop_get, proof_upload, proof_url
from dispatch.models import DeliveryProof, Driver, ProofKind, Stop
from orders.selectors import order_list


class ProofUploadInputSerializer(serializers.Serializer):
    client_id = serializers.CharField(max_length=64, help_text="The phone's id for the proof (idempotency key)")
    stop_id = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=ProofKind.choices)
    captured_at = serializers.DateTimeField(help_text="The phone's time of capture")
    file = serializers.FileField(help_text="JPEG, PNG or WebP, at most WAYPOINT_PROOF_MAX_BYTES (8 MB)")


class ProofUploadedSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryProof
        fields = ["id", "client_id", "kind", "content_type", "size_bytes"]


class ProofSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Signed; stops working after WAYPOINT_PROOF_URL_MAX_AGE_S")

    class Meta:
        model = DeliveryProof
        fields = ["id", "kind", "captured_at", "uploaded_at", "url", "content_type", "size_bytes"]

    def get_url(self, proof) -> str:
        url = proof_url(proof)
        request = self.context.get("request")
        # An S3 presigned URL is absolute already; build_absolute_uri leaves it as it is.
        return request.build_absolute_uri(url) if request else url


class DriverProofUploadApi(OrganizationApi):
    """A driver uploads a proof before the action that uses it; a dispatcher may upload for the stop's driver."""

    allowed_roles = write_roles = frozenset({Role.DRIVER, Role.ADMIN, Role.DISPATCHER})
    api_keys_allowed = False
    api_key_refusal = "Proofs come from the driver's own sign-in, not API keys."
    parser_classes = [MultiPartParser, FormParser]

    def organization_queryset(self):
        return DeliveryProof.objects.all()

    def _driver(self, stop: Stop) -> Driver:
        if self.actor.role == Role.DRIVER:
            driver = getattr(self.actor.user, "driver_profile", None)
            if driver is None or not driver.active:
                raise ConflictError("This account has no active driver profile.", code="not_a_driver")
            return driver
        if stop.route.driver is None:
            raise ConflictError("This stop's route has no driver to upload for.", code="route_without_driver")
        return stop.route.driver

    @extend_schema(
        tags=["driver"],
        operation_id="driver_proofs_upload",
        summary="Upload a proof of delivery (a signature or a photo); a replay answers 200 with the stored proof",
        request={"multipart/form-data": ProofUploadInputSerializer},
        responses={201: ProofUploadedSerializer, 200: ProofUploadedSerializer},
    )
    def post(self, request):
        serializer = ProofUploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stop = proof_stop_get(organization=self.organization, stop_id=data.pop("stop_id"))
        if stop is None:
            raise serializers.ValidationError({"stop_id": ["No such stop in your organization."]})
        proof, created = proof_upload(actor=self.actor, driver=self._driver(stop), stop=stop, **data)
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ProofUploadedSerializer(proof).data, status=answer)


class OrderProofListApi(OrganizationApi):
    """Ops (admin, dispatcher, viewer) and the merchant's API key, read scope enough."""

    pagination_class = None

    def organization_queryset(self):
        return order_list(organization=self.organization)

    @extend_schema(
        tags=["orders"],
        operation_id="orders_proofs",
        summary="The order's proofs of delivery, each with a signed URL that expires",
        responses=ProofSerializer(many=True),
    )
    def get(self, request, pk):
        order = get_object_or_404(self.get_queryset(), pk=pk)
        proofs = order_proof_list(organization=self.organization, order=order)
        return Response(ProofSerializer(proofs, many=True, context={"request": request}).data)
