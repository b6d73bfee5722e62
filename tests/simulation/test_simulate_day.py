"""The day simulator: a small day end to end, and the same report for the same seed."""

import datetime as dt
import json
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Organization
from dispatch.models import Stop, StopStatus
from simulation.run import simulate_day
from simulation.scenario import Scenario

# A Monday a week after the suite's today: the clock is held on the simulated day anyway.
DAY = dt.date(2026, 12, 7)
FINAL = {"delivered", "failed", "rescheduled", "returned"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # proofs of delivery are files


def small_day(**fields) -> Scenario:
    values = {"seed": 7, "date": DAY, "orders": 20, "hubs": 1, "vehicles": 2, "plan_iterations": 50}
    return Scenario(**{**values, **fields})


@pytest.mark.django_db(transaction=True)
def test_a_short_day_runs_end_to_end():
    """Every order is delivered or follows the failed-delivery policy; a failure carries its reason;
    a driver held up by traffic raises late-risk exceptions; customers hear about it."""
    # given: one delivery in five fails, and legs often twice as long as the ETA model expects
    scenario = small_day(failure_rate=0.2, traffic_noise=1.0)

    # when
    report, timings = simulate_day(scenario)

    # then
    orders = report["orders"]
    assert orders["total"] == 20
    assert orders["unplanned"] == 0
    assert set(orders["by_status"]) <= FINAL
    assert orders["delivered"] >= 10
    assert sum(report["attempts"]["failed_by_reason"].values()) >= 1
    failed = Stop.objects.filter(status=StopStatus.FAILED)
    assert failed.exists()
    assert all(stop.failure_reason for stop in failed)
    assert report["exceptions"]["by_kind"].get("late_risk", 0) >= 1
    assert report["exceptions"]["by_kind"].get("failed_attempt", 0) >= 1
    assert report["notifications"]["by_kind"]["delivered"] >= orders["delivered"]
    assert 0 <= report["on_time_rate"] <= 1
    assert 0 < report["attempts"]["first_attempt_success"] < 1
    assert report["eta_error"]["10_min"]["count"] >= 10
    fleet = report["fleet"]
    assert fleet["routes"] == 2
    assert fleet["km"] > 0
    assert 0 < fleet["driving_hours"] < fleet["shift_hours"]
    assert fleet["stops_per_hour"] > 0
    assert set(timings) == {"optimisation_s", "simulation_s", "total_s"}


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_gives_the_same_report_byte_for_byte(tmp_path):
    """Two runs of one scenario (each on a fresh organisation) write identical JSON."""
    arguments = ["--seed", "11", "--date", DAY.isoformat(), "--orders", "8", "--hubs", "1", "--vehicles", "2"]
    arguments += ["--failure-rate", "0.2", "--plan-iterations", "50"]
    first, second = tmp_path / "first.json", tmp_path / "second.json"

    call_command("simulate_day", *arguments, "--out", str(first))
    call_command("simulate_day", *arguments, "--out", str(second))

    assert first.read_bytes() == second.read_bytes()
    assert Organization.objects.filter(slug__startswith="sim-11-").count() == 2
    report = json.loads(first.read_text())
    assert report["orders"]["total"] == 8
    assert report["scenario"]["seed"] == 11


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("strategy", "reattempted"), [("static", False), ("dynamic", True)])
def test_only_the_dynamic_strategy_tries_a_failed_delivery_again_the_same_day(strategy, reattempted):
    """Static: a failed delivery waits for its next slot; dynamic: its route takes it back later today."""
    scenario = small_day(seed=5, orders=16, failure_rate=0.3, strategy=strategy)

    report, _ = simulate_day(scenario)

    attempts = Counter(
        Stop.objects.filter(status__in=[StopStatus.DONE, StopStatus.FAILED]).values_list("order_id", flat=True)
    )
    assert report["attempts"]["failed_by_reason"]
    assert (max(attempts.values()) > 1) is reattempted


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--hubs", "2", "--vehicles", "1"], "Need at least one order, one hub and one vehicle per hub."),
        (["--failure-rate", "1.5"], "--failure-rate is a share (0-1) and --traffic-noise is not negative."),
        (["--date", "next monday"], "--date: Invalid isoformat string: 'next monday'"),
    ],
    ids=["fewer-vehicles-than-hubs", "failure-rate-above-one", "unreadable-date"],
)
def test_an_impossible_scenario_is_refused_before_anything_is_created(arguments, message):
    with pytest.raises(CommandError) as refused:
        call_command("simulate_day", "--seed", "1", *arguments)

    assert str(refused.value) == message
    assert not Organization.objects.filter(slug__startswith="sim-").exists()
