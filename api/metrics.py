"""Prometheus `/metrics`: each projection's position, the log's head and the lag between them,
whether search answers, and the ingestion worker's counts by outcome.

Values are read at scrape time (nothing is cached between scrapes); a projection whose position
cannot be read (search down) is left out of the position and lag series, and `gongshi_search_up`
says why.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters.search_index.base import SearchIndex, SearchUnavailable
from api.deps import FollowersDep, IndexDep, WorkerDep
from ingestion.worker import IngestionWorker

router = APIRouter(tags=["operations"])


class TrackedProjection(Protocol):
    name: str

    def position(self) -> int: ...

    def head(self) -> int: ...


def projection_state(projection: TrackedProjection) -> dict[str, Any]:
    """name, position, head, lag (position and lag None when the position cannot be read)."""
    head = projection.head()
    try:
        position: int | None = projection.position()
    except SearchUnavailable:
        position = None
    return {
        "name": projection.name,
        "position": position,
        "head": head,
        "lag": None if position is None else max(0, head - position),
    }


class PlatformCollector(Collector):
    def __init__(
        self, followers: Sequence[TrackedProjection], index: SearchIndex, worker: IngestionWorker | None
    ) -> None:
        self.followers = followers
        self.index = index
        self.worker = worker

    def collect(self) -> Iterator[Metric]:
        position = GaugeMetricFamily(
            "gongshi_projection_position", "Last notification id a projection wrote", labels=["projection"]
        )
        head = GaugeMetricFamily(
            "gongshi_projection_head", "Last notification id in the event store", labels=["projection"]
        )
        lag = GaugeMetricFamily(
            "gongshi_projection_lag", "Notifications a projection is behind the log", labels=["projection"]
        )
        for projection in self.followers:
            state = projection_state(projection)
            head.add_metric([state["name"]], state["head"])
            if state["position"] is not None:
                position.add_metric([state["name"]], state["position"])
                lag.add_metric([state["name"]], state["lag"])
        yield from (position, head, lag)
        try:
            up = self.index.ping()
        except Exception:
            up = False
        yield GaugeMetricFamily("gongshi_search_up", "1 when the search index answers", value=1 if up else 0)
        worker = self.worker  # only when this process runs ingestion
        if worker is not None:
            outcomes = CounterMetricFamily(
                "gongshi_ingest_publications",
                "Publications decided by this process's ingestion worker, by outcome",
                labels=["outcome"],
            )
            for outcome, count in sorted(dict(worker.counts).items()):
                outcomes.add_metric([outcome], count)
            yield outcomes


@router.get("/metrics", include_in_schema=False)
def metrics(followers: FollowersDep, index: IndexDep, worker: WorkerDep) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector(followers, index, worker))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
