"""Dispatch writes, split by subdomain: fleet (network), planning, slots."""
