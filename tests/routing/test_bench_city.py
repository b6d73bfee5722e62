"""The city comparison: one row per instance, seed and solver, then means and paired differences."""

from __future__ import annotations

from routing.bench import main
from routing.bench_city import summary


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
