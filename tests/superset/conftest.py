"""The Superset test group (marker `superset`): a real Superset 6.1.0 in its own venv, cached between runs
in .venv-superset (LPA_SUPERSET_VENV) and re-installed when dashboards/superset/constraints.txt changes.
Deselect with `-m "not superset"`; CI runs it."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "superset: installs and runs Apache Superset 6.1.0 (slow, ~2 min)")
