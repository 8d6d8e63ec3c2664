"""Residents' side: report a matter without signing in, follow it, rate it (docs/residents.md)."""
