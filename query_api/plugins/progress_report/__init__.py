"""The Progress Report plugin (contracts.md section 6)."""
