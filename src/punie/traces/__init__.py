"""Recorded sessions: what `punie serve` and `punie ask` did, redacted, for harvest."""
