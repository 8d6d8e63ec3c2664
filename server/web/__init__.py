"""Pages that belong to no single domain: home, language switch, health."""
