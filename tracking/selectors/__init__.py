"""Tracking's reads: a driver's itinerary, the control tower's snapshot, a tracking page's snapshot."""
