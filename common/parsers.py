"""The API's JSON parser: bounded nesting, and no NUL characters (PostgreSQL cannot store them).

`json` recurses once per nesting level: a body nested 100,000 deep raised RecursionError (a 500).
PostgreSQL's text and jsonb types refuse `\\u0000`, so a NUL reaching the database raised a
DataError (a 500) wherever a string is stored. Both are refused here, before any view runs,
as a 400 in the one error shape; a NUL is reported at its field.
"""

from rest_framework import exceptions, parsers

MAX_DEPTH = 64
NUL = "\x00"
NUL_MESSAGE = "NUL characters (\\u0000) are not allowed."


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            message = f"JSON nested deeper than {MAX_DEPTH} levels."
            raise exceptions.ParseError(message, code="json_too_deep") from None
        errors = check_json(data)
        if errors:
            raise exceptions.ValidationError(errors)
        return data


def check_json(data) -> dict[str, list[str]]:
    """Field-level errors of a parsed document: too deep, or a NUL in a key or a string.

    Iterative, so checking cannot recurse; field names follow the error shape (`a.b[0].c`).
    """
    errors: dict[str, list[str]] = {}
    pending = [(data, "", 1)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, str):
            if NUL in value:
                errors[path or "non_field_errors"] = [NUL_MESSAGE]
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            errors[path or "non_field_errors"] = [f"Nested deeper than {MAX_DEPTH} levels."]
            continue
        if isinstance(value, list):
            pending.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
            continue
        for key, item in value.items():
            name = f"{path}.{key}" if path else key
            if NUL in key:
                errors[name.replace(NUL, "\\u0000")] = [NUL_MESSAGE]
                continue
            pending.append((item, name, depth + 1))
    return errors
