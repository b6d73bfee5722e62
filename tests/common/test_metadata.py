"""OPTIONS answers on every API endpoint, with or without a `serializer_class` on the view."""

import re

import pytest

pytestmark = pytest.mark.django_db


def api_paths():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return [re.sub(r"\{date\}", "2026-01-05", re.sub(r"\{\w*id\}", "1", path)) for path in paths]


@pytest.mark.parametrize("path", api_paths())
def test_options_answers_on_every_endpoint(request, path):
    """As the role each endpoint is for: keys are an admin's, driver endpoints a driver's."""
    role = "admin" if "/api-keys" in path else "driver" if "/driver/" in path else "dispatcher"
    client = request.getfixturevalue(f"{role}_client")

    response = client.options(path)

    assert response.status_code == 200, (path, response.content[:300])
    assert response.json()["name"]


def test_options_describes_input_where_the_view_declares_a_serializer(admin_client):
    response = admin_client.options("/api/hubs")

    assert set(response.json()["actions"]["POST"]) >= {"code", "name", "lat", "lng"}


def test_options_on_a_view_with_nested_serializers_answers_without_actions(dispatcher_client):
    response = dispatcher_client.options("/api/plans/1/dispatch")

    assert response.status_code == 200
    assert "actions" not in response.json()
