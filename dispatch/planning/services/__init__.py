"""Planning writes, split by job: plans (create, optimize, dispatch), manual edits, live changes, locks."""
