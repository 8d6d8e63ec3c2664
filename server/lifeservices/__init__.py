"""The life-service directory: service points, appointments and reviews (docs/residents.md)."""
