"""Group plugins: registry entries (data) plus optional blueprints (code), found through entry points."""
