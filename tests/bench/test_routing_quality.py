"""Benchmark parsing and the CSV it prints, on a tiny Solomon-format file."""

from __future__ import annotations

from bench.routing_quality import family, main, read_solomon

TINY = """TINY1

VEHICLE
NUMBER     CAPACITY
  2         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0       1000          0
    1      3          4          5          0       1000         10
    2      0          1.5        5          0       1000         10
    3      3          4          5          0       1000         10
"""


def test_solomon_file_uses_truncated_tenths(tmp_path):
    path = tmp_path / "TINY1.txt"
    path.write_text(TINY)

    problem, scale = read_solomon(path)

    assert scale == 10
    assert len(problem.vehicles) == 2
    assert problem.vehicles[0].time_window == (0, 10000)
    assert problem.matrices["car"].durations[0][1] == 50
    assert problem.matrices["car"].durations[1][2] == 39  # 3.905… truncated to 3.9
    assert problem.jobs[0].time_windows == [(0, 10000)]
    assert problem.jobs[0].service_s == 100


def test_bench_prints_one_row_per_instance(tmp_path, capsys):
    (tmp_path / "TINY1.txt").write_text(TINY)
    (tmp_path / "bks.csv").write_text("instance,vehicles,distance,source\nTINY1,2,13.0,hand\n")

    main([str(tmp_path), "--budget", "0.3"])

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "instance,vehicles,distance,bks_distance,gap_pct,seconds,feasible"
    name, vehicles, distance, bks, gap, _, feasible = lines[1].split(",")
    assert (name, vehicles, distance, bks, gap, feasible) == (
        "TINY1",
        "2",
        "13.0",
        "13.0",
        "0.00",
        "True",
    )
    assert lines[2] == "# other: n=1 mean_gap=0.00% max_gap=0.00%"


def test_family_names():
    assert [family(n) for n in ("C101", "RC208", "R1_10_1", "X-n101-k25")] == [
        "C1",
        "RC2",
        "R1_10",
        "X",
    ]
