"""Who read or changed personal data, and when."""
