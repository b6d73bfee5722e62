"""One simulated day from start to report: build the world, run it, measure it."""

from __future__ import annotations

import datetime as dt
import time

from simulation.engine import Simulation, simulated_time, start_instant
from simulation.report import day_report, wall_clock_report
from simulation.scenario import Scenario, world_build


def simulate_day(scenario: Scenario) -> tuple[dict, dict]:
    """The day's report (deterministic for the scenario) and the wall-clock figures (not)."""
    began = time.perf_counter()
    with simulated_time(start_instant(scenario)):
        world = world_build(scenario)
        simulation = Simulation(world, scenario)
        running = time.perf_counter()
        simulation.run(step=dt.timedelta(minutes=1))
        report = day_report(simulation)
    ended = time.perf_counter()
    timings = wall_clock_report(optimisation_s=world.optimisation_seconds, run_s=ended - running, total_s=ended - began)
    return report, timings
