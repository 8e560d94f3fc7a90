"""``/metrics``: the Monitor's counters in Prometheus' text format (prometheus-client), read from
:meth:`tapeflow.Monitor.status` at each scrape, plus the HTTP server's own event-loop stall.

Counters only grow (frames, reconnects, 429s, rows stored...); gauges are states (lag, books per sync state, open
gaps, weight used, the store's backlog). Per-connection series carry a ``connection`` label, the store's rows a
``kind`` label.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tapeflow.monitor import Monitor
from tapeflow.serve.loopwatch import LoopWatch
from tapeflow.store import StoreStatus

__all__ = ["MonitorCollector", "registry_for", "router"]

router = APIRouter(tags=["service"])


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"tapeflow_{name}", doc, value=value)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"tapeflow_{name}", doc, value=value)


class MonitorCollector(Collector):
    """Collects one Monitor's status (and the loop's stall) at each scrape."""

    def __init__(self, monitor: Monitor, loop_watch: LoopWatch | None = None) -> None:
        self.monitor = monitor
        self.loop_watch = loop_watch

    def collect(self) -> Iterable[Metric]:
        st = self.monitor.status()
        conns = st.connections
        labelled: list[tuple[str, str, type[CounterMetricFamily | GaugeMetricFamily], str]] = [
            ("frames", "frames received per connection", CounterMetricFamily, "frames"),
            ("connection_frames_per_second", "frames per second per connection", GaugeMetricFamily, "frames_per_s"),
            ("connection_reconnects", "sessions reopened after a failure", CounterMetricFamily, "reconnects"),
            ("connection_rotations", "make-before-break rotations", CounterMetricFamily, "rotations"),
            ("connection_zombies", "sessions replaced because they went silent", CounterMetricFamily, "zombies"),
        ]
        for name, doc, kind, attr in labelled:
            fam = kind(f"tapeflow_{name}", doc, labels=["connection", "route"])
            for c in conns:
                fam.add_metric([str(c.id), c.route], float(getattr(c, attr)))
            yield fam
        lag = GaugeMetricFamily("tapeflow_lag_seconds", "receive time minus event time", labels=["connection"])
        lag_max = GaugeMetricFamily("tapeflow_lag_max_seconds", "largest lag seen", labels=["connection"])
        is_open = GaugeMetricFamily("tapeflow_connection_open", "1 when the session is open", labels=["connection"])
        for c in conns:
            if c.lag_ms is not None:
                lag.add_metric([str(c.id)], c.lag_ms / 1000)
            if c.lag_max_ms is not None:
                lag_max.add_metric([str(c.id)], c.lag_max_ms / 1000)
            is_open.add_metric([str(c.id)], 1.0 if c.state == "open" else 0.0)
        yield from (lag, lag_max, is_open)
        yield _gauge("frames_per_second", "frames per second over every connection", sum(c.frames_per_s for c in conns))
        yield _counter("frames_applied", "frames applied by the engine", st.frames)
        yield _counter("malformed_frames", "frames and REST bodies that were not valid events (skipped)", st.malformed)
        books = GaugeMetricFamily("tapeflow_books", "books per sync state", labels=["state"])
        for state, n in st.books.items():
            books.add_metric([state], float(n))
        yield books
        yield _gauge("symbols", "symbols watched", st.symbols)
        yield _gauge("gaps_open", "aggTrade id gaps not filled yet", st.gaps_open)
        yield _gauge("flow_incomplete_symbols", "symbols whose flow windows are not complete", st.incomplete)
        yield _counter("trades_backfilled", "trades counted from REST pages", st.trades_backfilled)
        yield _gauge("rest_weight_used", "REST request weight used in the current minute", st.rest.weight_used)
        yield _gauge("rest_weight_limit", "REST request weight per minute", st.rest.weight_limit)
        yield _counter("rest_requests", "REST replies received", st.rest.requests)
        yield _counter("rest_throttled", "429 replies", st.rest.throttled)
        yield _counter("rest_banned", "418 replies", st.rest.banned)
        yield _counter("rest_failures", "failed REST calls (5xx, timeouts, refused)", st.rest.failures)
        yield _counter("snapshots_fetched", "depth snapshots fetched", st.snapshots.fetched)
        yield _counter("unsynced_reads_refused", "book reads refused because not synced", st.unsynced_reads_refused)
        yield _counter("events_dropped", "events that slow readers missed", st.events_dropped)
        yield _gauge("engine_backlog", "batches waiting for the engine", st.engine_backlog)
        if st.backfill is not None:
            yield _counter("gaps_filled", "aggTrade gaps filled by REST", st.backfill.gaps_filled)
            yield _counter("gaps_abandoned", "aggTrade gaps given up", st.backfill.gaps_abandoned)
        if st.store is not None:
            yield from _store_metrics(st.store)
        if self.loop_watch is not None:
            w = self.loop_watch
            yield _gauge("event_loop_stall_seconds", "largest event-loop stall over the last interval", w.recent_max_s)
            yield _counter("event_loop_stall_total_seconds", "event-loop stall time, summed", w.total_s)


def _store_metrics(st: StoreStatus) -> Iterable[Metric]:
    """The store's counters (per kind of row: ``liquidations``, ``intervals``, ``checkpoint``...) and backlog."""
    by_kind = (
        ("store_rows_written", "rows the store committed, by kind", st.written),
        ("store_rows_lost", "rows the store gave up (writes failed past the backlog's limit), by kind", st.lost),
    )
    for name, doc, values in by_kind:
        fam = CounterMetricFamily(f"tapeflow_{name}", doc, labels=["kind"])
        for kind, n in sorted(values.items()):
            fam.add_metric([kind], float(n))
        yield fam
    yield _counter("store_commits", "transactions the store committed", st.commits)
    yield _counter("store_write_failures", "store write attempts that failed (each is retried)", st.failures)
    yield _gauge("store_backlog_rows", "rows queued for the store and not written yet", st.pending_rows)
    yield _gauge("store_failing", "1 while the store's writes fail", 1.0 if st.state == "failing" else 0.0)


def registry_for(monitor: Monitor, loop_watch: LoopWatch | None = None) -> CollectorRegistry:
    """A registry of its own (not the process-wide default) holding the Monitor's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitorCollector(monitor, loop_watch))
    return registry


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(request: Request) -> Response:
    """Prometheus text format: frames, rates, lag, reconnects, rotations, zombies, books per sync state, open gaps,
    backfilled trades, REST weight, 429/418, malformed frames, event-loop stall, store writes, failures and
    backlog."""
    registry: CollectorRegistry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
