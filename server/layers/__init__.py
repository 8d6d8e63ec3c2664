"""Base layers: roads, building footprints and points of interest drawn under the cells."""
