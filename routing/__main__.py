"""Command line: ``python -m routing solve problem.json [--budget S] [--seed N]``.

Writes VROOM-format solution JSON to stdout. An invalid problem writes
``{"code": 2, "error": ..., "errors": {path: [messages]}}`` to stderr and exits with 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from routing.errors import ProblemValidationError
from routing.solver import solve
from routing.vroom_json import format_solution, parse_problem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m routing")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("solve", help="solve a VROOM-format problem file ('-' = stdin)")
    run.add_argument("problem")
    run.add_argument("--budget", type=float, default=5.0, help="seconds of search")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--engine", choices=("auto", "pyvrp", "ortools"), default="auto")
    args = parser.parse_args(argv)
    try:
        with open(args.problem) if args.problem != "-" else sys.stdin as fh:
            document = json.load(fh)
    except (OSError, json.JSONDecodeError) as error:
        print(json.dumps({"code": 2, "error": str(error), "errors": {}}), file=sys.stderr)
        return 2
    try:
        problem = parse_problem(document)
    except ProblemValidationError as error:
        print(json.dumps({"code": 2, "error": str(error), "errors": error.errors}), file=sys.stderr)
        return 2
    solution = solve(problem, budget_s=args.budget, seed=args.seed, engine=args.engine)
    json.dump(format_solution(solution), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
