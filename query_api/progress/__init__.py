"""Progress computation (contracts.md sections 3 and 6): pure functions from aggregated store rows to the
report, and the pydantic models of the response."""
