"""Executing routes: the driver's shift, the stop lifecycle on the road, proofs and failures.

The driver app (and the geofence on positions) act through these services; each action is kept
with the phone's id, so a replayed sync applies nothing twice.
"""
