"""`/api/optimize`: VROOM-format problems solved inline or as background jobs."""
