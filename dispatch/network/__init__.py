"""The network: hubs, vehicles, drivers and their shifts (the bottom of dispatch)."""
