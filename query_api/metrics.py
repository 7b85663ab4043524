"""Prometheus metrics: request counts and latencies by endpoint (the URL rule, not the raw path, so group ids
do not explode the label space), one CollectorRegistry per app so that many apps in one process (tests) do
not collide. Under several gunicorn workers each worker answers with its own counts; see docs/api.md."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest


def init_app(app: Flask) -> None:
    registry = CollectorRegistry()
    requests = Counter("lpa_http_requests", "HTTP requests answered", ["endpoint", "method", "status"],
                       registry=registry)
    latency = Histogram("lpa_http_request_duration_seconds", "Time to answer an HTTP request",
                        ["endpoint", "method"], registry=registry,
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
    app.extensions["lpa.metrics"] = registry

    @app.before_request
    def _start_timer() -> None:
        g.lpa_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        started = g.pop("lpa_started", None)
        endpoint = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        requests.labels(endpoint, request.method, str(response.status_code)).inc()
        if started is not None:
            latency.labels(endpoint, request.method).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
