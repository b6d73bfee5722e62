"""Waypoint's route-optimisation engine: a pure library (no Django, no project apps).

Public API: :func:`solve`, :func:`verify`, :func:`parse_problem`, :func:`format_solution`,
:func:`best_insertion`, :func:`reoptimise`, the travel providers and
:class:`ProblemValidationError`. See docs/routing.md.
"""
