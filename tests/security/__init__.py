"""Security and privacy tests: hostile input, access control, tokens, pages, personal data, abuse."""
