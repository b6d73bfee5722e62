"""A fast path through a DRF serializer, for bulk input that is mostly valid.

DRF wraps each value's conversion in several layers of generic calls (empty-value handling,
validators called through lists whose errors are collected, a nested serializer's bookkeeping):
about 80 µs for an order row, most of a bulk import's CPU. `fast_validator` compiles a
serializer's fields once into plain functions that do what DRF does for a valid value (the
field's own `to_internal_value`, then its validators) and return the same result. Any value
that fails makes the whole input return None, and the caller runs the serializer itself, which
gives the answer and the field-level messages. So a check here may be stricter than DRF's (the
input then only takes the slow path), never looser; fields and serializers that override DRF's
validation steps are validated by their own `run_validation`.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

from django.core import validators as django_validators
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from rest_framework import fields, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

Converter = Callable[[Any], Any]


class _Defer(Exception):
    """The value is for DRF to judge."""


_FOR_DRF = (_Defer, ValidationError, DjangoValidationError)


class InputCheckSerializer(serializers.Serializer):
    """A serializer that judges its raw input before its fields do, in `check_input`.

    The fast path runs the same check, where a serializer overriding `to_internal_value` for it
    would be left to DRF.
    """

    def check_input(self, data) -> None:
        """Raise ValidationError for input the fields should not see."""

    def to_internal_value(self, data):
        self.check_input(data)
        return super().to_internal_value(data)


def fast_validator(serializer: serializers.Serializer) -> Callable[[Any], dict | None]:
    """`serializer.run_validation(data)` for plain input, or None where DRF must decide."""
    convert = _compile(serializer)

    def validate(data):
        try:
            return convert(data)
        except _FOR_DRF:
            return None

    return validate


def _compile(field: fields.Field) -> Converter:
    body = None if getattr(field.root, "partial", False) else _body(field)
    if body is None:
        return field.run_validation
    return partial(_with_empty_values, field, body)


def _with_empty_values(field: fields.Field, body: Converter, value):
    # Field.validate_empty_values: absent takes the default (SkipField without one), null is allowed or not.
    if value is fields.empty:
        if field.required:
            raise _Defer
        return field.get_default()
    if value is None:
        if field.allow_null:
            return None
        raise _Defer
    return body(value)


def _overrides(field: fields.Field, base: type, names: tuple[str, ...]) -> bool:
    return any(getattr(type(field), name) is not getattr(base, name) for name in names)


def _body(field: fields.Field) -> Converter | None:
    kind = type(field)
    if isinstance(field, serializers.ListSerializer):
        names = ("run_validation", "to_internal_value", "run_child_validation", "validate_empty_values")
        return None if _overrides(field, serializers.ListSerializer, names) else _many(field)
    if isinstance(field, serializers.Serializer):
        base = InputCheckSerializer if isinstance(field, InputCheckSerializer) else serializers.Serializer
        names = ("run_validation", "to_internal_value", "run_validators", "validate_empty_values")
        return None if _overrides(field, base, names) or field.validators else _object(field)
    if _overrides(field, fields.Field, ("validate_empty_values", "run_validators")):
        return None
    checks = _checks(field)
    # DateTimeField.to_internal_value asks for the current time zone for every value (a context
    # variable lookup); it cannot change during one validation, so it is asked once here.
    if kind is fields.DateTimeField:
        zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
        formats = getattr(field, "input_formats", api_settings.DATETIME_INPUT_FORMATS)
        if zone is not None and formats and formats[0].lower() == fields.ISO_8601:
            return partial(_datetime, zone, checks)
    names = ("run_validation", "to_internal_value", "run_child_validation")
    if isinstance(field, fields.ListField) and not _overrides(field, fields.ListField, names):
        return partial(_list, _compile(field.child), field.allow_empty, checks)
    # Otherwise the field's own to_internal_value does the converting, exactly as in DRF.
    if kind.run_validation is fields.CharField.run_validation:
        return partial(_text, field.to_internal_value, field.trim_whitespace, field.allow_blank, checks)
    if kind.run_validation is fields.Field.run_validation:
        return partial(_converted, field.to_internal_value, checks)
    return None


def _object(serializer: serializers.Serializer) -> Converter | None:
    entries = []
    for field in serializer._writable_fields:
        if field.source_attrs != [field.field_name]:
            return None
        method = getattr(serializer, f"validate_{field.field_name}", None)
        entries.append((field.field_name, _compile(field), method))
    check = serializer.check_input if isinstance(serializer, InputCheckSerializer) else None
    return partial(_mapping, entries, check, serializer.validate)


def _mapping(entries, check, validate, data):
    if type(data) is not dict:
        raise _Defer
    if check is not None:
        check(data)
    result = {}
    for name, convert, method in entries:
        try:
            value = convert(data.get(name, fields.empty))
        except fields.SkipField:
            continue
        result[name] = value if method is None else method(value)
    return validate(result)


def _many(field: serializers.ListSerializer) -> Converter:
    limits = (field.allow_empty, field.min_length, field.max_length)
    return partial(_items, _compile(field.child), limits, _checks(field), field.validate)


def _items(child, limits, checks, validate, value):
    allow_empty, shortest, longest = limits
    if type(value) is not list or (not allow_empty and not value):
        raise _Defer
    if (shortest is not None and len(value) < shortest) or (longest is not None and len(value) > longest):
        raise _Defer
    return validate(_checked([child(item) for item in value], checks))


def _checked(value, checks):
    for check in checks:
        if not check(value):
            raise _Defer
    return value


def _text(to_internal_value, trim, allow_blank, checks, value):
    # CharField.run_validation: a blank value is judged before anything else, and never validated.
    if value == "" or (trim and str(value).strip() == ""):
        if allow_blank:
            return ""
        raise _Defer
    return _checked(to_internal_value(value), checks)


def _converted(to_internal_value, checks, value):
    return _checked(to_internal_value(value), checks)


def _list(child, allow_empty, checks, value):
    if type(value) is not list or (not allow_empty and not value):
        raise _Defer
    return _checked([child(item) for item in value], checks)


def _datetime(zone, checks, value):
    if type(value) is not str:
        raise _Defer
    try:
        parsed = parse_datetime(value)
        if parsed is None or parsed.tzinfo is None:
            raise _Defer
        return _checked(parsed.astimezone(zone), checks)
    except (ValueError, OverflowError):
        raise _Defer from None


def _checks(field: fields.Field) -> list[Callable[[Any], bool]]:
    return [_check(validator, field) for validator in field.validators]


def _check(validator, field: fields.Field) -> Callable[[Any], bool]:
    """The validator as a test; Django's limit validators and DRF's character bans are inlined."""
    kind, limit = type(validator), getattr(validator, "limit_value", None)
    if limit is not None and not callable(limit):
        if kind is django_validators.MaxLengthValidator:
            return lambda value: len(value) <= limit
        if kind is django_validators.MinLengthValidator:
            return lambda value: len(value) >= limit
        if kind is django_validators.MaxValueValidator:
            return lambda value: value <= limit
        if kind is django_validators.MinValueValidator:
            return lambda value: value >= limit
    if kind is django_validators.ProhibitNullCharactersValidator:
        return lambda value: "\x00" not in str(value)
    if kind is ProhibitSurrogateCharactersValidator:
        return lambda value: str(value).isascii() or _passes(validator, field, value)
    return partial(_passes, validator, field)


def _passes(validator, field: fields.Field, value) -> bool:
    try:
        if getattr(validator, "requires_context", False):
            validator(value, field)
        else:
            validator(value)
    except (ValidationError, DjangoValidationError):
        return False
    return True
