"""Offline sync: the merge protocol between phones and the server, free of any web framework."""
