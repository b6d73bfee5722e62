"""Daily plans, routes and stops: optimizing, manual edits, dispatch, live changes, the board."""
