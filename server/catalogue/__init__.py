"""The intake catalogue: 7 categories/36 kinds of affairs, 8/112 of services."""
