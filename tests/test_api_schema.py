"""The OpenAPI schema types every answer: each 2xx response names a shape, none is a bare object."""

import pytest

pytestmark = pytest.mark.django_db

# Answers that are files rather than JSON: their schema is a string by design.
FILE_ANSWERS = {
    ("/api/orders/imports/{id}/errors.csv", "get", "text/csv"),  # an import's error report
}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema?format=json")
    assert response.status_code == 200
    return response.json()


def _untyped(schema: dict | None, components: dict) -> bool:
    """No schema, any value (`{}`), or an object that says nothing of its keys."""
    if not schema:
        return True
    if "$ref" in schema:
        return _untyped(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if schema.get("allOf"):
        return all(_untyped(part, components) for part in schema["allOf"])
    if schema.get("type") == "array":
        return _untyped(schema.get("items"), components)
    if schema.get("type") == "object" or "properties" in schema:
        return not schema.get("properties") and schema.get("additionalProperties") in (None, True, {})
    return "type" not in schema and "enum" not in schema


def _problems(schema: dict) -> list[str]:
    components = schema["components"]["schemas"]
    problems = []
    for path, operations in schema["paths"].items():
        for method in METHODS:
            if method not in operations:
                continue
            answers = {code: r for code, r in operations[method]["responses"].items() if code.startswith("2")}
            if not answers:
                problems.append(f"{method.upper()} {path}: no 2xx answer")
            for code, answer in answers.items():
                content = answer.get("content")
                if code == "204" and not content:
                    continue  # no content is the answer
                if not content:
                    problems.append(f"{method.upper()} {path} {code}: no content")
                for media_type, body in (content or {}).items():
                    if (path, method, media_type) not in FILE_ANSWERS and _untyped(body.get("schema"), components):
                        problems.append(f"{method.upper()} {path} {code} {media_type}: untyped")
    return problems


def test_no_answer_in_the_schema_is_untyped(schema):
    assert _problems(schema) == []


def test_the_check_finds_an_untyped_answer(schema):
    """Guards the check itself: an operation answering a bare object is reported."""
    bare = {"responses": {"200": {"content": {"application/json": {"schema": {"type": "object"}}}}}}
    missing = {"responses": {"200": {"description": ""}}}
    broken = {**schema, "paths": {"/api/x": {"get": bare, "post": missing}}}

    assert _problems(broken) == ["GET /api/x 200 application/json: untyped", "POST /api/x 200: no content"]


def _answer(schema: dict, path: str, method: str, code: str = "200") -> str:
    return schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]["$ref"]


@pytest.mark.parametrize(
    ("path", "method", "code", "component"),
    [
        ("/api/plans", "get", "200", "PaginatedPlanSummaryList"),
        ("/api/plans", "post", "201", "Plan"),
        ("/api/plans/{id}", "get", "200", "Plan"),
        ("/api/plans/{id}/optimize/cancel", "post", "200", "Plan"),
        ("/api/plans/{id}/dispatch", "post", "200", "Plan"),
        ("/api/plans/{id}/vehicle-breakdown", "post", "200", "Plan"),
        ("/api/plans/{id}/stops/{stop_id}/move", "post", "200", "Plan"),
        ("/api/plans/{id}/stops/{stop_id}/unassign", "post", "200", "Plan"),
        ("/api/plans/{id}/stops/{stop_id}/lock", "post", "200", "Plan"),
        ("/api/plans/{id}/routes/{route_id}/lock", "post", "200", "Plan"),
        ("/api/plans/{id}/routes/{route_id}/swap", "post", "200", "Plan"),
        ("/api/driver/routes", "get", "200", "DriverRoutes"),
        ("/api/exceptions/{id}/acknowledge", "post", "200", "DeliveryException"),
        ("/api/exceptions/{id}/assign", "post", "200", "DeliveryException"),
        ("/api/exceptions/{id}/resolve", "post", "200", "DeliveryException"),
    ],
)
def test_plan_driver_and_tower_answers_name_their_serializer(schema, path, method, code, component):
    assert _answer(schema, path, method, code) == f"#/components/schemas/{component}"


def test_a_plan_is_documented_down_to_its_stops(schema):
    components = schema["components"]["schemas"]

    assert list(components["Plan"]["properties"]) == [
        "id",
        "hub",
        "date",
        "wave",
        "objective",
        "time_budget_s",
        "allow_drop",
        "status",
        "version",
        "progress",
        "error",
        "message",
        "dispatched_at",
        "totals",
        "routes",
        "unassigned",
    ]
    assert components["Route"]["properties"]["stops"]["items"] == {"$ref": "#/components/schemas/Stop"}
    assert components["Stop"]["properties"]["time_windows"]["items"] == {"$ref": "#/components/schemas/TimeSpan"}
    assert components["PlanStatusEnum"]["enum"] == ["draft", "optimizing", "optimized", "failed", "dispatched"]


@pytest.mark.parametrize(
    ("path", "component", "created"),
    [
        ("/api/hubs", "Hub", "Hub"),
        ("/api/vehicles", "Vehicle", "Vehicle"),
        ("/api/drivers", "Driver", "Driver"),
        ("/api/orders", "OrderOutput", "OrderOutput"),
        ("/api/slots/templates", "SlotTemplate", "SlotTemplate"),
    ],
)
def test_list_endpoints_are_documented_as_pages(schema, path, component, created):
    page = schema["components"]["schemas"][f"Paginated{component}List"]

    assert _answer(schema, path, "get") == f"#/components/schemas/Paginated{component}List"
    assert page["properties"]["results"]["items"] == {"$ref": f"#/components/schemas/{component}"}
    assert _answer(schema, path, "post", "201") == f"#/components/schemas/{created}"


def test_every_error_answer_has_the_error_shape(schema):
    """The error shape, or one of its answers where the view documents its own (bulk create's 400)."""
    error = {"$ref": "#/components/schemas/Error"}
    shapes = {
        f"{method.upper()} {path} {code}": answer["content"]["application/json"]["schema"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
        for code, answer in operation["responses"].items()
        if code >= "400"
    }
    own = {name: shape for name, shape in shapes.items() if shape != error}

    assert own == {
        "POST /api/orders/bulk 400": {"oneOf": [{"$ref": "#/components/schemas/BulkResult"}, error]},
    }
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "message"]


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/me", "get", ["401", "403", "429"]),
        ("/api/hubs", "get", ["400", "401", "403", "404", "429"]),
        ("/api/hubs/{id}", "delete", ["400", "401", "403", "404", "409", "422", "429"]),
        ("/api/orders", "post", ["400", "401", "403", "409", "413", "415", "422", "429"]),
        ("/api/slots/availability", "get", ["400", "401", "403", "422", "429"]),
    ],
)
def test_operations_document_the_errors_they_can_answer(schema, path, method, codes):
    responses = schema["paths"][path][method]["responses"]

    assert sorted(code for code in responses if code >= "400") == codes
