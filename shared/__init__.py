"""Code every venuecode service uses; it imports no service."""
