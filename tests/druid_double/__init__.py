"""A DuckDB-backed test double of Druid's HTTP API (SQL, health, supervisors, index tasks).

Used by tests/integration/test_druid_*.py so that the Druid adapter, pydruid and the API's error paths run
end to end on a machine without Druid; the same tests run against a real cluster with LPA_DRUID_URL set.
"""

from tests.druid_double.app import DruidDouble, druid_exception, legacy_error
from tests.druid_double.server import DruidDoubleServer

__all__ = ["DruidDouble", "DruidDoubleServer", "druid_exception", "legacy_error"]
