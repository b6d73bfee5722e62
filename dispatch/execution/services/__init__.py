"""Writes of route execution: the stop lifecycle on the road (`stops`) and the phone's actions (`actions`)."""
