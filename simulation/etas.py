"""The ETAs customers were shown during the run, for the ETA error at 60, 30 and 10 minutes out.

Tracking keeps one `StopEta` per stop and overwrites it on every position, so the simulator reads
it at each step and keeps each change. `eta_shown` is the one place that reads what was shown:
once tracking records its predictions (an EtaPrediction history), it reads those instead.
"""

from __future__ import annotations

import bisect
import datetime as dt

from tracking.models import StopEta

HORIZONS_MIN = (60, 30, 10)


def eta_shown(stop_ids) -> dict[int, dt.datetime]:
    """The arrival shown now to the customers of these stops, by stop id (by key: this runs every step)."""
    rows = StopEta.objects.filter(stop_id__in=list(stop_ids))
    return dict(rows.values_list("stop_id", "eta"))


class EtaRecorder:
    def __init__(self) -> None:
        # stop id -> the instants it changed at, and the ETA from each of them on
        self.times: dict[int, list[dt.datetime]] = {}
        self.etas: dict[int, list[dt.datetime]] = {}

    def sample(self, at: dt.datetime, stop_ids) -> None:
        """Keep what is shown now for these open stops (ETAs move only when their driver sends a position)."""
        if not stop_ids:
            return
        for stop_id, eta in eta_shown(stop_ids).items():
            etas = self.etas.setdefault(stop_id, [])
            if not etas or etas[-1] != eta:
                self.times.setdefault(stop_id, []).append(at)
                etas.append(eta)

    def predicted(self, stop_id: int, at: dt.datetime) -> dt.datetime | None:
        """What was shown for `stop_id` at `at` (the last sample at or before it), if anything."""
        times = self.times.get(stop_id, [])
        index = bisect.bisect_right(times, at) - 1
        return self.etas[stop_id][index] if index >= 0 else None

    def errors_s(self, arrivals: dict[int, dt.datetime]) -> dict[int, list[float]]:
        """Predicted minus actual arrival (s) per horizon, over the stops shown an ETA that long before."""
        errors: dict[int, list[float]] = {h: [] for h in HORIZONS_MIN}
        for stop_id, arrived in sorted(arrivals.items()):
            for horizon in HORIZONS_MIN:
                shown = self.predicted(stop_id, arrived - dt.timedelta(minutes=horizon))
                if shown is not None:
                    errors[horizon].append((shown - arrived).total_seconds())
        return errors
