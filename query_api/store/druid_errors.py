"""Druid's error answers -> the analytics store's errors (and from there the API's).

Druid answers a failed SQL query with a JSON body in one of two envelopes (Druid 28+; both seen on one
cluster, docs `api-reference/sql-api.md` and `querying/querying.md#query-errors`):

- `druidException` (planning, validation): `{"error": "druidException", "errorCode": "invalidInput",
  "persona": "USER", "category": "INVALID_INPUT", "errorMessage": "...", "context": {...}}`;
- legacy (a runtime failure on a data server): `{"error": "Query timeout", "errorMessage": "...",
  "errorClass": "org.apache.druid.query.QueryTimeoutException", "host": "..."}`, newer versions adding
  `errorCode: "legacyQueryException"` and a `category`.

`error` is a discriminator in the first shape, a message in the second: the message shown is
`errorMessage`. The mapping is by HTTP status, as the API promises (400 -> the request was refused,
5xx or a timeout -> 503), with one refinement: a 400 that says one of *our* datasources does not exist
means the cluster has not ingested anything yet (a deployment state, not the caller's fault) -> 503.
"""

from __future__ import annotations

import json
import re
from typing import Any

from query_api.store.base import StoreError, StoreTimeout, StoreUnavailable

# Druid: "Object 'lpa_enriched' not found" (Calcite validation of an unknown table).
_MISSING_OBJECT = re.compile(r"Object '([^']+)' not found", re.IGNORECASE)


class DruidError(StoreError):
    """A failed Druid call, keeping what Druid said for the logs (never shown raw to API clients)."""

    http_status: int = 503
    api_code: str = "analytics_unavailable"

    def __init__(self, message: str, *, status: int | None = None, category: str | None = None,
                 druid_code: str | None = None, query_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.category = category
        self.druid_code = druid_code
        self.query_id = query_id

    def details(self) -> dict[str, Any]:
        """What the API may show: Druid's category and the query id to find the query in Druid's logs."""
        return {k: v for k, v in {"store": "druid", "category": self.category, "queryId": self.query_id,
                                  "druidStatus": self.status}.items() if v is not None}


class DruidQueryRejected(DruidError):
    """Druid refused the query as invalid (HTTP 400): the API answers 400, not 503."""

    http_status = 400
    api_code = "analytics_query_rejected"


class DruidUnavailable(DruidError, StoreUnavailable):
    """Druid is down, overloaded, failing, or has not loaded our datasources yet: 503."""


class DruidTimeout(DruidError, StoreTimeout):
    """The query ran out of time, on Druid's side (504 / category TIMEOUT) or on ours: 503."""


def _parse_body(body: bytes | str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def druid_message(data: dict[str, Any], fallback: str) -> str:
    message = data.get("errorMessage")
    if not message:
        error = data.get("error")
        message = error if error and error != "druidException" else None
    return str(message or fallback)[:500]


def error_from_response(status: int, body: bytes | str, *, query_id: str | None = None) -> DruidError:
    """The store error for a non-200 Druid answer (a proxy's HTML page still gives a clean error)."""
    data = _parse_body(body)
    category = data.get("category")
    code = data.get("errorCode") or (data.get("error") if data.get("error") != "druidException" else None)
    message = druid_message(data, f"Druid answered HTTP {status}")
    kwargs: dict[str, Any] = {"status": status, "category": category, "druid_code": code, "query_id": query_id}
    if status == 504 or category == "TIMEOUT" or data.get("error") == "Query timeout":
        return DruidTimeout(f"Druid query timed out: {message}", **kwargs)
    if status == 400:
        if _MISSING_OBJECT.search(message):
            return DruidUnavailable(f"Druid has no such datasource yet: {message}", **kwargs)
        return DruidQueryRejected(f"Druid rejected the query: {message}", **kwargs)
    # 5xx, 429 (capacity exceeded), 401/403 (our credentials), 404 (wrong URL or router path): not the
    # API client's doing, so all of them are "the analytics store is unavailable".
    return DruidUnavailable(f"Druid answered HTTP {status}: {message}", **kwargs)
