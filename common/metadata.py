"""OPTIONS answers for every API view, including those without a `serializer_class`.

DRF's `SimpleMetadata` describes a view's POST/PUT input by calling `get_serializer()`, which
asserts a `serializer_class`. Views with nested input serializers (one per operation, as the
style guide asks) have none, so OPTIONS answered 500. They answer the generic part instead;
the OpenAPI schema (`/api/schema`) is where their input is described.
"""

from rest_framework.metadata import SimpleMetadata


class ApiMetadata(SimpleMetadata):
    def determine_actions(self, request, view):
        if not declares_serializer(view):
            return {}
        return super().determine_actions(request, view)


def declares_serializer(view) -> bool:
    """A `serializer_class`, or a `get_serializer_class()` of the view's own, not DRF's assertion."""
    if getattr(view, "serializer_class", None) is not None:
        return True
    # Found by name: importing rest_framework.generics here would be circular (APIView loads this).
    for klass in type(view).__mro__:
        if "get_serializer_class" in vars(klass):
            return not klass.__module__.startswith("rest_framework.")
    return False
