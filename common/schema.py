"""OpenAPI postprocessing: every operation documents the errors it can answer, in the one shape.

Views document their successful answers (and, where it helps, what a 409 means for them); the
answers that come from the shared machinery are the same everywhere, so they are added here
once, from what the operation has: credentials (401, 403, 429), path or cursor lookups (404),
input (400; a body also 413, 415), writes (409 conflicts; 422 reused Idempotency-Key or a refused
rule). Each carries the error schema of `common.errors`.
"""

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape (common.errors): a stable code, a message, field errors.",
    "properties": {
        "code": {"type": "string", "description": "Stable, e.g. validation_error, not_found"},
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Field (`orders[0].address`) to messages; validation errors only.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "details": {"type": "object", "additionalProperties": True},
    },
    "required": ["code", "message"],
}
DESCRIPTIONS = {
    "400": "Invalid input; `errors` names each field.",
    "401": "No credentials, or an unknown or revoked API key.",
    "403": "The role or API key may not do this.",
    "404": "Not found in your organization (or an unknown page cursor).",
    "409": "Conflicts with the current state; `code` says which.",
    "413": "The body is larger than WAYPOINT_MAX_BODY_BYTES.",
    "415": "Unsupported Content-Type.",
    "422": "A rule refused the request, or its Idempotency-Key was used with another body.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


def error_codes(method: str, operation: dict) -> set[str]:
    """The error status codes an operation can answer through the shared machinery."""
    parameters = operation.get("parameters", [])
    codes = set()
    if any(requirement for requirement in operation.get("security", [])):
        codes |= {"401", "403", "429"}
    if any(p["in"] == "path" or p["name"] == "cursor" for p in parameters):
        codes.add("404")
    if any(p["in"] == "query" for p in parameters) or "requestBody" in operation:
        codes.add("400")
    if "requestBody" in operation:
        codes |= {"413", "415"}
    if method in WRITE_METHODS:
        codes |= {"400", "409", "422"}
    return codes


def document_errors(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    error = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", *WRITE_METHODS}:
                continue
            responses = operation.setdefault("responses", {})
            for code in sorted(error_codes(method, operation) | {c for c in responses if c >= "400"}):
                answer = responses.setdefault(code, {"description": DESCRIPTIONS.get(code, "")})
                body = answer.setdefault("content", {}).setdefault("application/json", {})
                own = body.get("schema")
                # A view's own body for an error code (the bulk endpoint's per-row results when
                # every row failed) is one answer; the machinery's error shape stays the other.
                body["schema"] = {"oneOf": [own, error]} if own and own != error else error
                if code == "429":
                    answer.setdefault("headers", {"Retry-After": {"schema": {"type": "integer"}}})
    return result
