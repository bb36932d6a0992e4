"""The read-only JSON API, /api/v1/ (docs/api.md)."""
