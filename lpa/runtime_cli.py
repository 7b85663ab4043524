"""`lpa up` and `lpa demo` (wired up as the embedded stack grows)."""
