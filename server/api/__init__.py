"""The JSON API's plumbing: flask-smorest Api/Blueprint with strict JSON and problem+json errors."""
