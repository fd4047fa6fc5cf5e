"""Fault tests: the platform keeps every check-in while its servers stop and start (private servers)."""
