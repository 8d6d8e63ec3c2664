"""Open311 GeoReport v2 at /open311/v2/: partner systems file and follow cases (docs/open311.md)."""
