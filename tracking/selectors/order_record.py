"""What ops see of a delivery on the tower's order page: each attempt at the door and its proofs.

An order may be attempted more than once (a failed attempt re-planned the same day gets a new
stop), so every stop that reached the door is listed, oldest first, with the proofs uploaded for
it; each proof carries a signed URL that expires (dispatch.execution.proofs).
"""

from dataclasses import dataclass, field

from dispatch.execution.proofs import order_proof_list, proof_url
from dispatch.models import DeliveryProof, FailureReason, PlanStatus, Stop, StopStatus

# Stops whose driver reached (or at least tried) the door: they carry a delivery record.
ATTEMPTED = (StopStatus.ARRIVED, StopStatus.DONE, StopStatus.FAILED, StopStatus.SKIPPED)


@dataclass(frozen=True)
class ProofView:
    proof: DeliveryProof
    url: str


@dataclass(frozen=True)
class Attempt:
    stop: Stop
    failure_label: str = ""
    service_text: str = ""
    proofs: list[ProofView] = field(default_factory=list)


def _service_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _failure_label(stop: Stop) -> str:
    if not stop.failure_reason:
        return ""
    labels = dict(FailureReason.choices)
    return labels.get(stop.failure_reason, stop.failure_reason)


@dataclass(frozen=True)
class DeliveryRecord:
    attempts: list[Attempt]
    # Uploaded for a stop whose action has not reached the server yet (the phone syncs proofs
    # first): shown rather than hidden until then.
    other_proofs: list[ProofView]


def order_delivery_record(*, organization, order) -> DeliveryRecord:
    """The order's attempts at the door, oldest first, each with its proofs."""
    stops = list(
        Stop.objects.filter(order=order, route__plan__organization=organization, status__in=ATTEMPTED)
        .filter(route__plan__status=PlanStatus.DISPATCHED)
        .select_related("route__driver")
        .order_by("id")
    )
    proofs = [ProofView(proof, proof_url(proof)) for proof in order_proof_list(organization=organization, order=order)]
    attempts = [
        Attempt(
            stop=stop,
            failure_label=_failure_label(stop),
            service_text=_service_text(stop.service_seconds),
            proofs=[view for view in proofs if view.proof.stop_id == stop.pk],
        )
        for stop in stops
    ]
    listed = {stop.pk for stop in stops}
    return DeliveryRecord(attempts, [view for view in proofs if view.proof.stop_id not in listed])
