"""``python -m routing solve`` as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.routing.problems import line_document

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "routing", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_solve_writes_vroom_output(tmp_path):
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(line_document([{"id": 1, "location_index": 2}])))

    result = _run("solve", str(path), "--budget", "0.2", "--seed", "1")

    assert result.returncode == 0
    out = json.loads(result.stdout)
    assert (out["code"], out["summary"]["cost"], out["summary"]["unassigned"]) == (0, 400, 0)


def test_invalid_problem_exits_2_with_errors_on_stderr(tmp_path):
    doc = line_document([{"id": 1, "location_index": 2, "time_windows": [[5, 1]]}])
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(doc))

    result = _run("solve", str(path))

    assert result.returncode == 2
    assert result.stdout == ""
    assert json.loads(result.stderr)["errors"] == {"jobs[0].time_windows[0]": ["window ends before it starts"]}


def test_documented_example_solves():
    result = _run("solve", "docs/examples/vroom-problem.json", "--budget", "0.5")

    assert result.returncode == 0
    out = json.loads(result.stdout)
    assert out["summary"]["unassigned"] == 1
    assert out["unassigned"][0]["reason"] == "skills"
