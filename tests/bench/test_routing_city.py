"""The city comparison: one row per instance, seed and solver, then means and paired differences."""

from __future__ import annotations

import time

import pytest

from bench import routing_city
from bench.cities import city_document
from bench.routing_city import main, summary
from routing import parse_problem


def test_compare_runs_every_instance_and_seed_for_every_solver(capsys):
    main(["--compare", "12", "--budget", "0.3", "--seeds", "1,2", "--instances", "5"])

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "instance,seed,solver,routes,unassigned,cost,distance_km,seconds,verified,load_avg"
    rows = [line.split(",") for line in lines[1:] if not line.startswith("#")]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("5", "1", "waypoint"),
        ("5", "1", "pyvrp"),
        ("5", "1", "vroom"),
        ("5", "2", "waypoint"),
        ("5", "2", "pyvrp"),
        ("5", "2", "vroom"),
    ]
    assert all(r[4] == "0" and r[8] == "True" for r in rows)
    notes = [line.split(":")[0] for line in lines if line.startswith("#")]
    assert notes == [
        "# mean waypoint",
        "# mean pyvrp",
        "# mean vroom",
        "# waypoint vs pyvrp",
        "# waypoint vs vroom",
    ]


def test_city_prints_one_verified_row(capsys):
    main(["--city", "12", "--budget", "0.3", "--seed", "5"])

    header, row = capsys.readouterr().out.splitlines()
    assert header == (
        "stops,vehicles_available,routes,unassigned,cost,time_to_feasible_s,total_s,peak_rss_mb,engine,verified"
    )
    fields = dict(zip(header.split(","), row.split(","), strict=True))
    assert (fields["stops"], fields["vehicles_available"], fields["unassigned"], fields["verified"]) == (
        "12",
        "2",
        "0",
        "True",
    )


def test_a_city_size_is_required(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--budget", "1"])

    assert exit_.value.code == 2
    assert "one of the arguments --city --compare is required" in capsys.readouterr().err


def test_summary_pairs_runs_and_leaves_out_incomplete_plans():
    """The (2, 1) run of PyVRP left stops out (-1): that pair counts on neither side."""
    costs = {
        "waypoint": {(1, 1): 99, (1, 2): 102, (2, 1): 90},
        "pyvrp": {(1, 1): 100, (1, 2): 100, (2, 1): -1},
    }

    lines = list(summary(costs))

    assert lines == [
        "# mean waypoint: runs=3 complete=3 cost=97",
        "# mean pyvrp: runs=3 complete=2 cost=100",
        "# waypoint vs pyvrp: pairs=2 mean_diff=+0.50% min=-1.00% max=+2.00% wins=1 losses=1",
    ]


def _slow(monkeypatch, owner, name: str, delay_s: float) -> None:
    real = getattr(owner, name)

    def slow(*args, **kwargs):
        time.sleep(delay_s)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, slow)


def test_pyvrp_direct_pays_for_building_its_data_out_of_its_budget(monkeypatch):
    """0.3 s spent compiling comes out of PyVRP direct's budget: its search must stop at the
    deadline set when the call began, not a fresh budget after building its data."""
    import pyvrp

    problem = parse_problem(city_document(12, 5, with_matrices=True))
    compiling, real_compile = [], routing_city.compile_problem

    def slow_compile(*args, **kwargs):
        compiling.append(time.perf_counter())
        time.sleep(0.3)
        return real_compile(*args, **kwargs)

    monkeypatch.setattr(routing_city, "compile_problem", slow_compile)
    stops, real_solve = [], pyvrp.solve

    def solve(data, *, stop, **kwargs):
        stops.append((stop, time.perf_counter()))
        return real_solve(data, stop=stop, **kwargs)

    monkeypatch.setattr(pyvrp, "solve", solve)

    called = time.perf_counter()
    routes = routing_city._pyvrp(problem, 0.5, seed=1)

    stop, search_started = stops[0]
    assert called <= stop.deadline - 0.5 <= compiling[0]  # fixed before the data was built
    assert stop.deadline - search_started <= 0.5 - 0.3  # so the search got what was left
    assert sum(len(keys) for keys in routes.values()) == 12


def test_vroom_timeout_is_what_is_left_of_the_budget(monkeypatch):
    """Writing VROOM's input file (slowed to 0.3 s) comes out of its timeout; VROOM itself
    deducts its loading from there on."""
    import vroom

    timeouts = []
    real_solve = vroom.Input.solve

    def solve(self, *args, timeout=None, **kwargs):
        timeouts.append(timeout.total_seconds())
        return real_solve(self, *args, timeout=timeout, **kwargs)

    monkeypatch.setattr(vroom.Input, "solve", solve)
    _slow(monkeypatch, routing_city.tempfile, "NamedTemporaryFile", 0.3)

    routes = routing_city._vroom(city_document(12, 5, with_matrices=True), 0.5)

    assert timeouts[0] <= 0.5 - 0.3  # what writing its input left of the budget
    assert sum(len(keys) for keys in routes.values()) == 12
