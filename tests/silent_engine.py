"""Settings for a test worker whose engine goes silent: it solves, but first works for a while
without reporting anything, like OR-Tools building a first solution for a large problem.

Start the worker with `DJANGO_SETTINGS_MODULE=tests.silent_engine` and `SILENT_ENGINE_S=<seconds>`:
every solve (of a plan or of an /api/optimize job) sleeps that long before building its model,
so neither `on_progress` nor `should_stop` is called meanwhile. Only the heartbeat can show it alive.
"""

import os
import time

import routing.solver
from config.settings import *  # noqa: F403 (a settings module: everything, plus the silent engine)

_compile_problem = routing.solver.compile_problem


def _silent_compile_problem(*args, **kwargs):
    time.sleep(float(os.environ.get("SILENT_ENGINE_S", "0")))
    return _compile_problem(*args, **kwargs)


routing.solver.compile_problem = _silent_compile_problem
