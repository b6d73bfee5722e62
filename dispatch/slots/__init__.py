"""Delivery slots: templates, derived capacity, availability for checkouts, holds, rescheduling."""
