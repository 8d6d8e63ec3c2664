"""Grids and geometry: GeoJSON, datums, validation and point-to-cell location."""
