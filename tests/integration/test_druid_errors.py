"""Druid's failures reach the API as its errors: 400 -> the query was refused (client error), 5xx, a cut
answer, an unreachable router or a timeout -> 503 material (StoreUnavailable / StoreTimeout), never a hang
or a traceback. Fault injection needs the double: skipped against a real Druid."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from lpa.settings import load_settings
from query_api.store.base import StoreError, StoreTimeout, StoreUnavailable
from query_api.store.druid_errors import DruidQueryRejected, DruidTimeout, DruidUnavailable, error_from_response
from query_api.store.druid_store import DruidStore
from query_api.store.factory import StoreConfigError, analytics_readiness_check, build_analytics_store
from tests.druid_double import DruidDoubleServer, druid_exception, legacy_error
from tests.druid_double.target import REAL_DRUID_URL

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(bool(REAL_DRUID_URL), reason="fault injection needs the double")]


@pytest.fixture
def druid() -> Iterator[DruidDoubleServer]:
    with DruidDoubleServer() as server:
        yield server


@pytest.fixture
def store(druid: DruidDoubleServer) -> DruidStore:
    return DruidStore(druid.url, timeout_s=1.0, connect_timeout_s=0.5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_bad_query_is_a_client_error_with_druids_message(store: DruidStore) -> None:
    with pytest.raises(DruidQueryRejected) as caught:
        store.run_sql("SELECT nonsense(")
    assert caught.value.http_status == 400 and caught.value.api_code == "analytics_query_rejected"
    assert caught.value.details()["queryId"].startswith("lpa-")
    assert "druidException" not in caught.value.message


def test_druid_400_with_either_envelope(druid: DruidDoubleServer, store: DruidStore) -> None:
    druid.double.fail_next(400, druid_exception("Cannot apply '=' to arguments of type '<BIGINT> = <CHAR(1)>'"))
    with pytest.raises(DruidQueryRejected, match="Cannot apply"):
        store.run_sql("SELECT 1")


def test_a_missing_datasource_is_unavailable_not_the_callers_fault(store: DruidStore) -> None:
    with pytest.raises(DruidUnavailable, match="no such datasource"):
        store.progress_rows(["u"], ["c"])


@pytest.mark.parametrize("status, body", [
    (500, druid_exception("/ by zero", code="general", category="UNCATEGORIZED", persona="ADMIN")),
    (500, legacy_error("Unknown exception", "java.lang.OutOfMemoryError", "java.lang.OutOfMemoryError",
                       category="RUNTIME_FAILURE")),
    (429, druid_exception("Too many concurrent queries", code="general", category="CAPACITY_EXCEEDED")),
    (502, "<html><body>Bad Gateway</body></html>"),
    (503, ""),
])
def test_server_failures_are_unavailable(druid: DruidDoubleServer, store: DruidStore, status: int,
                                         body: object) -> None:
    druid.double.fail_next(status, body)
    with pytest.raises(StoreUnavailable) as caught:
        store.run_sql("SELECT 1")
    assert isinstance(caught.value, DruidUnavailable) and caught.value.http_status == 503
    assert caught.value.status == status


def test_druid_timeout_504_is_a_store_timeout(druid: DruidDoubleServer, store: DruidStore) -> None:
    druid.double.faults.latency_s = 2.0  # beyond the 1 s budget: the double honours context.timeout -> 504
    with pytest.raises(StoreTimeout) as caught:
        store.run_sql("SELECT 1")
    assert isinstance(caught.value, DruidTimeout) and caught.value.status == 504


def test_a_hanging_druid_hits_the_clients_read_timeout(druid: DruidDoubleServer, store: DruidStore) -> None:
    druid.double.faults.latency_s, druid.double.faults.hang = 4.0, True  # ignores context.timeout
    with pytest.raises(DruidTimeout, match="did not answer"):
        store.run_sql("SELECT 1")


def test_a_cut_answer_is_an_error_not_fewer_rows(druid: DruidDoubleServer, store: DruidStore) -> None:
    druid.double.faults.truncate = 1
    with pytest.raises(DruidUnavailable, match="cut off"):
        store.run_sql("SELECT 1 AS one")
    assert store.run_sql("SELECT 1 AS one").rows == [[1]]


def test_an_unreachable_router_is_unavailable() -> None:
    store = DruidStore(f"http://127.0.0.1:{_free_port()}", timeout_s=1.0, connect_timeout_s=0.5)
    with pytest.raises(DruidUnavailable, match="cannot reach"):
        store.ping()
    assert store.healthy() is False


def test_error_from_response_reads_errormessage_not_the_discriminator() -> None:
    error = error_from_response(400, b'{"error":"druidException","errorCode":"invalidInput",'
                                     b'"category":"INVALID_INPUT","errorMessage":"bad column"}', query_id="q")
    assert error.message == "Druid rejected the query: bad column" and error.category == "INVALID_INPUT"
    assert isinstance(error_from_response(500, b'{"error":"Query timeout","errorMessage":"x"}'), DruidTimeout)


def test_one_setting_switches_the_store_and_readyz_says_which(druid: DruidDoubleServer, tmp_path) -> None:
    store = build_analytics_store(load_settings(data_dir=tmp_path, analytics_store="druid", druid_url=druid.url))
    assert isinstance(store, DruidStore) and store.url == druid.url
    assert analytics_readiness_check(store)() == ("analytics", True, f"druid at {druid.url} answers")
    druid.double.fail_next(503)
    name, ok, detail = analytics_readiness_check(store)()
    assert (name, ok) == ("analytics", False) and detail.startswith(f"druid at {druid.url} does not answer")

    embedded = build_analytics_store(load_settings(data_dir=tmp_path, analytics_store="duckdb"))
    assert analytics_readiness_check(embedded)() == ("analytics", True, "duckdb at embedded answers")
    with pytest.raises(StoreConfigError, match="LPA_DRUID_URL"):
        build_analytics_store(load_settings(data_dir=tmp_path, analytics_store="druid"))


def test_every_druid_error_is_a_store_error() -> None:
    for kind in (DruidQueryRejected, DruidUnavailable, DruidTimeout):
        assert issubclass(kind, StoreError)
