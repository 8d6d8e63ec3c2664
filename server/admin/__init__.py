"""Administrators' pages: staff and their duties, units, the catalogue (issue 13, item 5)."""
