"""Online map tiles under the vector layers (issue 14 item 3): settings, CSP hosts, the API."""
