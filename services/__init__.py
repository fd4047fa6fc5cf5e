"""The venuecode services, the command line and the development runner that composes them."""
