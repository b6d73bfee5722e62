"""Bulk intake shared by the bulk API, the CSV API and the CSV page: validate, create, report.

The rule: each row stands alone. Valid rows are created (each fully, with its history); invalid
rows are reported with field-level errors and create nothing. One bad row never loses the others.
"""

from django.db import transaction
from rest_framework import serializers

from accounts.tenancy import Actor
from common.errors import flatten_errors
from common.validation import fast_validator
from dispatch.network.selectors import hub_list
from orders.csv_import import error_report
from orders.models import Order, OrderImport
from orders.serializers import OrderWriteSerializer
from orders.services import order_create_many


def intake_rows(*, actor: Actor, rows: list, request=None) -> dict:
    hubs = list(hub_list(organization=actor.organization))
    context = {"hubs": {hub.code: hub for hub in hubs}, "request": request}
    # One serializer validates every row: DRF builds a serializer's fields on first use, which
    # would otherwise dominate the cost of a 1,000-row batch.
    validator = OrderWriteSerializer(context=context)
    fast = fast_validator(validator)
    results: list[dict] = [{} for _ in rows]
    valid: list[tuple[int, dict]] = []
    for index, row in enumerate(rows):
        data = fast(row)
        if data is not None:
            valid.append((index, data))
            continue
        try:
            valid.append((index, validator.run_validation(row)))
        except serializers.ValidationError as error:
            reference = row.get("merchant_reference") if isinstance(row, dict) else None
            results[index] = _error(index, reference, flatten_errors(error.detail))
    created = order_create_many(actor=actor, rows=[data for _, data in valid], hubs=hubs) if valid else []
    for (index, data), outcome in zip(valid, created, strict=True):
        if isinstance(outcome, dict):
            results[index] = _error(index, data["merchant_reference"], outcome)
        else:
            results[index] = {
                "index": index,
                "status": "created",
                "merchant_reference": outcome.merchant_reference,
                "order": order_summary(outcome, request),
            }
    created_count = sum(1 for result in results if result["status"] == "created")
    return {
        "summary": {"total": len(rows), "created": created_count, "failed": len(rows) - created_count},
        "results": results,
    }


def order_summary(order: Order, request=None) -> dict:
    """What a bulk result says of a created order; the full order is at GET /api/orders/{id}."""
    path = f"/t/{order.tracking_token}"
    return {
        "id": order.pk,
        "status": order.status,
        "hub": order.hub.code if order.hub else None,
        "address_issue": order.address_issue or None,
        "tracking_token": order.tracking_token,
        "tracking_url": request.build_absolute_uri(path) if request else path,
    }


def _error(index: int, reference, errors: dict) -> dict:
    return {"index": index, "status": "error", "merchant_reference": reference, "errors": errors}


def intake_csv(*, actor: Actor, rows: list[dict], filename: str, request=None) -> tuple[OrderImport, dict]:
    outcome = intake_rows(actor=actor, rows=rows, request=request)
    with transaction.atomic():
        record = OrderImport.objects.create(
            organization=actor.organization,
            actor=actor.label,
            filename=filename[:255],
            total_rows=outcome["summary"]["total"],
            created_count=outcome["summary"]["created"],
            failed_count=outcome["summary"]["failed"],
            error_report_csv=error_report(outcome["results"]),
        )
    return record, outcome
