"""Exports for other systems: cases as GeoJSON and CSV, the published grid (docs/residents.md)."""
