"""One simulated driver: moves along its legs, sends positions and taps the app's actions.

Everything goes through what the driver app reaches: `action_apply` (the phone's actions, each
with its own id), `proof_upload` (signatures and photos) and `position_receive` (the positions the
app sends). The road is harder than the ETA model thinks: each leg is slowed by traffic noise,
ends with parking, and service takes longer or shorter than the order's `service_minutes`.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.tenancy import Actor
from dispatch.execution.proofs import proof_upload
from dispatch.execution.services.actions import action_apply
from dispatch.models import STOP_OPEN, FailureReason, Route, Stop
from dispatch.network.travel import travel_provider
from orders.services import order_proofs_required
from routing import GreatCircleProvider, time_dependent_travel
from tracking.services.positions import position_receive

# The same travel model the ETAs use (tracking.services.eta): what differs is only what the model
# does not know (noise, parking, service variance), which is what the ETA error measures.
# The nominal speed a position reports; the legs' times come from the travel model.
PROVIDER = GreatCircleProvider()


def free_flow_leg(start: tuple[float, float], end: tuple[float, float], profile: str) -> tuple[float, float]:
    """Seconds (at traffic multiplier 1) and metres from `start` to `end` in the travel model the
    plans and ETAs use (roads when WAYPOINT_TRAVEL=osrm), so drivers are judged on the same map."""
    seconds, metres = travel_provider().row(start, [end], profile)
    return float(seconds[0]), float(metres[0])


# Seconds from the kerb to the door, which neither the plan nor the ETA model counts (uniform range).
PARKING_S = {"bike": (10, 40), "van": (30, 180), "truck": (60, 240)}
SERVICE_SIGMA = 0.35
# Below WAYPOINT_NO_POSITION_MINUTES (10), so a driver waiting at a door is never taken for silent.
STANDING_INTERVAL_S = 300
# Why a delivery fails, as often as couriers report them.
FAILURE_REASONS = (
    (FailureReason.CUSTOMER_ABSENT, 6),
    (FailureReason.ACCESS_RESTRICTED, 2),
    (FailureReason.NO_SAFE_PLACE, 1),
    (FailureReason.ADDRESS_WRONG, 1),
    (FailureReason.REFUSED, 1),
)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 20, 20)).save(buffer, format="PNG")
    return buffer.getvalue()


PROOF_IMAGE = _png()


@dataclass
class Leg:
    start: tuple[float, float]
    end: tuple[float, float]
    left_at: dt.datetime
    arrives_at: dt.datetime
    stop_id: int | None  # None: the way back to the hub


@dataclass
class Tally:
    """What one driver did, in simulated seconds and metres."""

    driving_s: float = 0.0
    distance_m: float = 0.0
    service_s: float = 0.0
    arrivals: dict[int, dt.datetime] = field(default_factory=dict)  # stop id -> at the door
    service_starts: dict[int, dt.datetime] = field(default_factory=dict)
    shift_started: dt.datetime | None = None
    shift_ended: dt.datetime | None = None


class SimDriver:
    def __init__(self, route: Route, *, rng: random.Random, scenario) -> None:
        self.route_id, self.driver = route.pk, route.driver
        self.profile = route.vehicle.type
        self.hub = (route.plan.hub.lat, route.plan.hub.lng)
        self.tz = route.plan.hub.tz
        self.actor = Actor(organization=route.plan.organization, user=route.driver.user)
        self.rng, self.scenario = rng, scenario
        self.here = self.hub
        self.phase = "before"  # before, driving, serving, done
        self.next_at: dt.datetime = route.start_time
        self.leg: Leg | None = None
        self.stop: Stop | None = None
        self.serve_until: dt.datetime | None = None
        self.actions = 0
        self.open_stop_ids: list[int] = []  # the route's stops still to serve, whose ETAs customers see
        self.tally = Tally()

    # --- The app's channels ---------------------------------------------------------------

    def _act(self, kind: str, at: dt.datetime, **fields) -> dict:
        self.actions += 1
        action = {
            "client_id": f"sim-{self.route_id}-{self.actions}",
            "kind": kind,
            "device_at": at.isoformat(),
            "lat": self.here[0],
            "lng": self.here[1],
            "accuracy_m": 8,
            **fields,
        }
        return action_apply(actor=self.actor, driver=self.driver, action=action)

    def _position(self, at: dt.datetime, *, moving: bool) -> None:
        fix = {
            "recorded_at": at,
            "lat": self.here[0],
            "lng": self.here[1],
            "accuracy_m": 8.0,
            "speed_mps": PROVIDER.speed_ms(self.profile) if moving else 0.0,
            "heading_deg": None,
            "battery_pct": 80,
        }
        position_receive(driver=self.driver, fixes=[fix])

    # --- The day ----------------------------------------------------------------------------

    def advance(self, now: dt.datetime) -> None:
        """Do what is due at `now` (the engine calls this at `next_at`) and set the next `next_at`."""
        if self.phase == "before":
            self._act("start_shift", now, route_id=self.route_id, payload={})
            self.tally.shift_started = now
            self._position(now, moving=False)
            self._next_leg(now)
        elif self.phase == "driving":
            self._drive(now)
        elif self.phase == "serving":
            if now >= self.serve_until:
                self._finish_stop(now)
                self._next_leg(now)
            else:
                self._position(now, moving=False)
                self.next_at = min(self.serve_until, now + self._interval(moving=False))

    def _interval(self, *, moving: bool = True) -> dt.timedelta:
        seconds = self.scenario.position_interval_s
        # Standing at a door (serving, or waiting for the window to open) moves no ETA: a position
        # now and then keeps the driver from counting as silent, at a fraction of the cost.
        return dt.timedelta(seconds=seconds if moving else max(seconds, STANDING_INTERVAL_S))

    def _next_leg(self, now: dt.datetime) -> None:
        # Read again at every stop: the failed-delivery policy may have put a stop back on the route.
        open_stops = list(
            Stop.objects.filter(route_id=self.route_id, status__in=STOP_OPEN)
            .select_related("order__organization")
            .order_by("sequence", "pk")
        )
        self.open_stop_ids = [s.pk for s in open_stops]
        stop = open_stops[0] if open_stops else None
        if stop is None and self.here == self.hub:
            self._act("end_shift", now, route_id=self.route_id, payload={})
            self.tally.shift_ended, self.phase = now, "done"
            return
        if stop is not None:
            self._act("depart", now, stop_id=stop.pk, payload={})
        target = (stop.order.lat, stop.order.lng) if stop is not None else self.hub
        self.stop = stop
        self.leg = Leg(self.here, target, now, now + self._leg_duration(target, now), stop.pk if stop else None)
        self.phase = "driving"
        self.next_at = min(self.leg.arrives_at, now + self._interval())

    def _leg_duration(self, target: tuple[float, float], now: dt.datetime) -> dt.timedelta:
        seconds, metres = free_flow_leg(self.here, target, self.profile)
        local = now.astimezone(self.tz)
        depart_s = local.hour * 3600 + local.minute * 60 + local.second
        noise = math.exp(self.rng.gauss(0.0, self.scenario.traffic_noise)) if self.scenario.traffic_noise else 1.0
        driving = time_dependent_travel(seconds, depart_s) * noise
        low, high = PARKING_S.get(self.profile, PARKING_S["van"])
        parking = self.rng.uniform(low, high) if metres > 0 else 0.0
        self.tally.driving_s += driving
        self.tally.distance_m += metres
        return dt.timedelta(seconds=round(driving + parking))

    def _drive(self, now: dt.datetime) -> None:
        leg = self.leg
        total = (leg.arrives_at - leg.left_at).total_seconds()
        done = 1.0 if total <= 0 else min(1.0, (now - leg.left_at).total_seconds() / total)
        if done >= 1.0:
            self.here = leg.end  # exactly: the hub's point tells the driver it is home
        else:
            self.here = (
                leg.start[0] + (leg.end[0] - leg.start[0]) * done,
                leg.start[1] + (leg.end[1] - leg.start[1]) * done,
            )
        self._position(now, moving=done < 1.0)
        if done < 1.0:
            self.next_at = min(leg.arrives_at, now + self._interval())
            return
        if leg.stop_id is None:  # back at the hub
            self._next_leg(now)
            return
        self._arrive(now)

    def _arrive(self, now: dt.datetime) -> None:
        stop = self.stop
        self._act("arrive", now, stop_id=stop.pk, payload={})
        self.tally.arrivals[stop.pk] = now
        # Service starts when the customer's window opens; a driver early at the door waits.
        start = max(now, stop.order.window_start or now)
        self.tally.service_starts[stop.pk] = start
        minutes = stop.order.service_minutes * math.exp(self.rng.gauss(0.0, SERVICE_SIGMA))
        self.tally.service_s += minutes * 60
        self.serve_until = start + dt.timedelta(seconds=round(minutes * 60))
        self.phase = "serving"
        self.next_at = min(self.serve_until, now + self._interval(moving=False))

    def _finish_stop(self, now: dt.datetime) -> None:
        stop, order = self.stop, self.stop.order
        if self.rng.random() < self.scenario.failure_rate:
            reasons, weights = zip(*FAILURE_REASONS, strict=True)
            reason = self.rng.choices(reasons, weights=weights)[0]
            self._act("fail", now, stop_id=stop.pk, payload={"reason": reason, "note": ""})
            return
        payload = self._proofs(stop, now)
        if order.cash_on_delivery:
            payload["cash_collected"] = str(order.cash_on_delivery)
        result = self._act("complete", now, stop_id=stop.pk, payload=payload)
        if result["outcome"] != "applied":
            raise RuntimeError(f"Completing stop {stop.pk} was refused: {result}")

    def _proofs(self, stop: Stop, now: dt.datetime) -> dict:
        """Upload what the order requires, as the app does before it sends the completion."""
        required = order_proofs_required(stop.order)  # the order's own, or the organisation's default
        payload: dict = {}
        for kind in ("signature", "photo"):
            if kind in required:
                client_id = f"sim-proof-{stop.pk}-{kind}"
                file = SimpleUploadedFile(f"{kind}.png", PROOF_IMAGE, content_type="image/png")
                proof_upload(
                    actor=self.actor,
                    driver=self.driver,
                    stop=stop,
                    client_id=client_id,
                    kind=kind,
                    captured_at=now,
                    file=file,
                )
                if kind == "signature":
                    payload["signature"] = client_id
                else:
                    payload["photos"] = [client_id]
        if "one_time_code" in required:
            # The customer reads the code from their message or tracking page.
            stop.order.refresh_from_db(fields=["delivery_code"])
            payload["code"] = stop.order.delivery_code
        return payload
