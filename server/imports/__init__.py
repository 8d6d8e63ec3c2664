"""One import pipeline for tabular master data: register, addresses, staff, units."""
