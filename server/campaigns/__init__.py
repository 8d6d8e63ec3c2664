"""Campaigns (专项行动): a form, a set of targets in responsible cells, dates, progress."""
