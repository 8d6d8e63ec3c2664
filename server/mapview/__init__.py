"""The back-office map: cells by level, cases as markers coloured by status, filters."""
