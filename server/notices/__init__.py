"""In-app notices to staff: escalations of overdue cases and other things to look at."""
