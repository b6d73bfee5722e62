"""Tracking's writes: positions (and publishing them), ETAs, delivery exceptions, detectors, KPI pushes."""
