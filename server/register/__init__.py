"""The population register in the back office: search, household cards, edits (issue 13)."""
