"""Output fields shared by the apps' serializers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class IsoDateTimeField(serializers.DateTimeField):
    """`datetime.isoformat()` in the zone the value carries, as the JSON answers have always been.

    DRF's own field converts to the current time zone and writes UTC as `Z`, which would change
    every timestamp clients and screens already parse.
    """

    def to_representation(self, value):
        return value.isoformat()


@extend_schema_field(OpenApiTypes.STR)
class ConstantField(serializers.Field):
    """A value every message of one shape carries, such as its `type`."""

    def __init__(self, value: str, **kwargs):
        self.value = value
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
        return self.value
