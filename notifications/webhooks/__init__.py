"""Merchant webhooks: signed (Standard Webhooks), delivered at least once, retried for over 24 h."""
