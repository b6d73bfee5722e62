from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts import selectors, services
from accounts.models import ApiKey, ApiKeyScope, Role
from accounts.tenancy import OrganizationApi


class ApiKeyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scope",
            "rate_limit_per_minute",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]


class ApiKeyCreatedSerializer(ApiKeyOutputSerializer):
    key = serializers.CharField(help_text="The secret. It is shown only in this response.")

    class Meta(ApiKeyOutputSerializer.Meta):
        fields = [*ApiKeyOutputSerializer.Meta.fields, "key"]


class ApiKeyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=ApiKeyScope.choices, default=ApiKeyScope.READ_WRITE)


class ApiKeyAdminApi(OrganizationApi):
    """Only organization admins, signed in, manage keys: a key cannot mint other keys."""

    allowed_roles = frozenset({Role.ADMIN})
    api_keys_allowed = False
    api_key_refusal = "API keys are managed by signed-in admins only."

    def organization_queryset(self):
        return selectors.api_key_list(organization=self.organization)


class ApiKeyCollectionApi(ApiKeyAdminApi):
    serializer_class = ApiKeyOutputSerializer

    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiKeyOutputSerializer(page, many=True).data)

    @extend_schema(request=ApiKeyInputSerializer, responses={201: ApiKeyCreatedSerializer})
    def post(self, request):
        serializer = ApiKeyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, raw_key = services.api_key_create(
            organization=self.organization, created_by=self.actor.user, **serializer.validated_data
        )
        api_key.key = raw_key
        return Response(ApiKeyCreatedSerializer(api_key).data, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(ApiKeyAdminApi):
    @extend_schema(request=None, responses=ApiKeyOutputSerializer)
    def post(self, request, pk):
        api_key = services.api_key_revoke(api_key=get_object_or_404(self.get_queryset(), pk=pk))
        return Response(ApiKeyOutputSerializer(api_key).data)


class MeSerializer(serializers.Serializer):
    organization = serializers.CharField()
    role = serializers.CharField()
    principal = serializers.CharField()


class MeApi(OrganizationApi):
    allowed_roles = frozenset(Role.values)

    @extend_schema(responses=MeSerializer, summary="Who am I: the caller's organization and role")
    def get(self, request):
        return Response(
            {
                "organization": self.organization.slug,
                "role": self.actor.role,
                "principal": self.actor.label,
            }
        )
