"""The Prometheus metrics of a served reranker (``GET /metrics``), kept by ``prometheus-client`` per ingress replica.

- ``crossrank_requests_total{route, status}``: requests answered, by route and HTTP status;
- ``crossrank_request_duration_seconds{route}``: time from the request reaching the ingress to its answer;
- ``crossrank_pairs_scored_total``: (query, document) pairs sent to the model;
- ``crossrank_batch_pairs``: pairs in each shared model batch (counted once per batch, by the request that led it).

With several ingress replicas, each keeps its own counts and a scrape reaches one of them; sum them from Ray's
own metrics export instead (every batch is counted by exactly one ingress).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


class ServeMetrics:
    """One registry of the metrics above (not the process-wide one, so that apps in one process stay apart)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "crossrank_requests",
            "Requests answered, by route and HTTP status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "crossrank_request_duration_seconds",
            "Seconds from a request reaching the server to its answer.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.pairs = Counter(
            "crossrank_pairs_scored", "(query, document) pairs sent to the model.", registry=self.registry
        )
        self.batches = Histogram(
            "crossrank_batch_pairs", "Pairs in each shared model batch.", buckets=BATCH_BUCKETS, registry=self.registry
        )

    def answered(self, route: str, status: int, seconds: float) -> None:
        """Count one answer to ``route``."""
        self.requests.labels(route=route, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def scored(self, pairs: int, batch_pairs: int) -> None:
        """Count a request's pairs, and its shared batch's size when it led that batch (``batch_pairs > 0``)."""
        self.pairs.inc(pairs)
        if batch_pairs:
            self.batches.observe(batch_pairs)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)
