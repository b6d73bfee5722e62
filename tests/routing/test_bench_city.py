"""The city comparison: one row per instance, seed and solver, then means and paired differences."""

from __future__ import annotations

import time

from routing import bench_city
from routing.bench import main
from routing.bench_city import city_document, summary
from routing.vroom_json import parse_problem


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
    # One budget from the problem in hand to the answer (VROOM's heuristics may overrun it).
    assert all(float(r[7]) <= 0.3 + 0.05 for r in rows if r[2] != "vroom")
    notes = [line.split(":")[0] for line in lines if line.startswith("#")]
    assert notes == [
        "# mean waypoint",
        "# mean pyvrp",
        "# mean vroom",
        "# waypoint vs pyvrp",
        "# waypoint vs vroom",
    ]


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
    """0.3 s spent compiling leaves PyVRP direct 0.2 s of search, not a fresh 0.5 s."""
    problem = parse_problem(city_document(12, 5, with_matrices=True))
    _slow(monkeypatch, bench_city, "compile_problem", 0.3)

    started = time.perf_counter()
    routes = bench_city._pyvrp(problem, 0.5, seed=1)

    assert time.perf_counter() - started < 0.5 + 0.1
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
    _slow(monkeypatch, bench_city.tempfile, "NamedTemporaryFile", 0.3)

    routes = bench_city._vroom(city_document(12, 5, with_matrices=True), 0.5)

    assert 0.1 < timeouts[0] <= 0.2
    assert sum(len(keys) for keys in routes.values()) == 12
