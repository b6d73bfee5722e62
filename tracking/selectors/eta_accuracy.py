"""ETA error of a day: how far the estimate customers were shown was from the actual arrival.

For each stop of the day's plans that the driver arrived at (`Stop.arrived_at`, recorded by the
stop lifecycle in dispatch), and each horizon H of `HORIZONS_MINUTES`, the prediction in force H
minutes before the arrival is the stop's last `EtaPrediction` made at or before that moment; its
error is predicted − actual (positive: the driver came earlier than shown). A stop with no
prediction yet at that moment (its first estimate came later) does not count at that horizon.
Per horizon: the mean error, the mean absolute error (MAE) and the 90th percentile of the absolute
error (nearest rank), in minutes.
"""

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from dispatch.models import Stop
from tracking.models import EtaPrediction

HORIZONS_MINUTES = (10, 30, 60)


@dataclass(frozen=True)
class HorizonError:
    minutes: int
    stops: int
    mean_min: float | None
    mae_min: float | None
    p90_min: float | None


@dataclass(frozen=True)
class EtaAccuracy:
    day: dt.date
    stops: int  # arrived stops with at least one prediction before their arrival
    horizons: list[HorizonError]


def eta_accuracy(*, organization, day: dt.date) -> EtaAccuracy:
    """Mean, MAE and p90 of the ETA error at 10, 30 and 60 minutes out, over the day's arrived stops."""
    stops = Stop.objects.filter(
        route__plan__organization=organization, route__plan__date=day, arrived_at__isnull=False
    ).annotate(**{f"h{minutes}": _in_force(minutes) for minutes in (0, *HORIZONS_MINUTES)})
    rows = list(stops.values("arrived_at", *(f"h{m}" for m in (0, *HORIZONS_MINUTES))))
    horizons = []
    for minutes in HORIZONS_MINUTES:
        errors = [(row[f"h{minutes}"] - row["arrived_at"]).total_seconds() / 60 for row in rows if row[f"h{minutes}"]]
        horizons.append(_summary(minutes, errors))
    return EtaAccuracy(day=day, stops=sum(1 for row in rows if row["h0"]), horizons=horizons)


def _in_force(minutes: int) -> Subquery:
    """The predicted arrival of the stop's last prediction made `minutes` or more before it arrived."""
    made_by = OuterRef("arrived_at") - dt.timedelta(minutes=minutes)
    latest = EtaPrediction.objects.filter(stop=OuterRef("pk"), made_at__lte=made_by).order_by("-made_at", "-pk")
    return Subquery(latest.values("predicted_arrival")[:1])


def _summary(minutes: int, errors: list[float]) -> HorizonError:
    if not errors:
        return HorizonError(minutes=minutes, stops=0, mean_min=None, mae_min=None, p90_min=None)
    absolute = sorted(abs(error) for error in errors)
    p90 = absolute[math.ceil(0.9 * len(absolute)) - 1]
    return HorizonError(
        minutes=minutes,
        stops=len(errors),
        mean_min=round(sum(errors) / len(errors), 1),
        mae_min=round(sum(absolute) / len(absolute), 1),
        p90_min=round(p90, 1),
    )
