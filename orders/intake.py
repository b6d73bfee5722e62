"""Bulk intake shared by the bulk API, the CSV API and the CSV page: validate, create, report.

The rule: each row stands alone. Valid rows are created (each fully, with its history); invalid
rows are reported with field-level errors and create nothing. One bad row never loses the others.
"""

from django.db import transaction

from accounts.tenancy import Actor
from common.errors import flatten_errors
from dispatch.selectors import hub_by_code
from orders.csv_import import error_report
from orders.models import OrderImport
from orders.serializers import OrderOutputSerializer, OrderWriteSerializer
from orders.services import order_create_many


def intake_rows(*, actor: Actor, rows: list, request=None) -> dict:
    context = {"hubs": hub_by_code(organization=actor.organization), "request": request}
    results: list[dict] = [{} for _ in rows]
    valid: list[tuple[int, dict]] = []
    for index, row in enumerate(rows):
        reference = row.get("merchant_reference") if isinstance(row, dict) else None
        serializer = OrderWriteSerializer(data=row, context=context)
        if serializer.is_valid():
            valid.append((index, serializer.validated_data))
        else:
            results[index] = _error(index, reference, flatten_errors(serializer.errors))
    created = order_create_many(actor=actor, rows=[data for _, data in valid]) if valid else []
    for (index, data), outcome in zip(valid, created, strict=True):
        if isinstance(outcome, dict):
            results[index] = _error(index, data["merchant_reference"], outcome)
        else:
            body = OrderOutputSerializer(outcome, context=context).data
            results[index] = {
                "index": index,
                "status": "created",
                "merchant_reference": outcome.merchant_reference,
                "order": body,
            }
    created_count = sum(1 for result in results if result["status"] == "created")
    return {
        "summary": {
            "total": len(rows),
            "created": created_count,
            "failed": len(rows) - created_count,
        },
        "results": results,
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
