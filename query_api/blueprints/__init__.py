"""One blueprint per resource, registered by the app factory."""
