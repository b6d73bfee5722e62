"""Run calls at the same moment on threads (race tests against Postgres)."""

import threading

from django.db import connection


def run_together(calls):
    """Start every call behind one barrier; return their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
