"""Where a profiled run's time goes, by component: cProfile's own time (tottime) of every function
summed by where its code lives (a library, one of our files, or a named C function), so a profile
reads as "the Elasticsearch client 30 %, the gate 4 %, …" rather than as a list of functions."""

from __future__ import annotations

import cProfile
import pstats
from collections import defaultdict
from pathlib import Path

#: Components by where their code lives (the first that matches a function's file).
COMPONENTS = (
    ("/httpx/", "load generator: httpx ASGITransport (not the API)"),
    ("/httpcore/", "load generator: httpx ASGITransport (not the API)"),
    ("/elastic_transport/", "Elasticsearch client"),
    ("/elasticsearch/", "Elasticsearch client"),
    ("/urllib3/", "Elasticsearch client"),
    ("/starlette/middleware/gzip", "middleware: gzip"),
    ("/starlette/middleware/", "Starlette middleware plumbing"),
    ("/starlette/", "Starlette (routing, requests, responses)"),
    ("/fastapi/", "FastAPI (routing, dependencies)"),
    ("/pydantic", "pydantic"),
    ("/asyncio/", "event loop"),
    ("/anyio/", "event loop"),
    ("/limits/", "rate limits (limits)"),
    ("/psycopg/", "PostgreSQL client (psycopg)"),
    ("/eventsourcing/", "eventsourcing (stored events, aggregates)"),
    ("/pypinyin/", "pypinyin"),
)
ROOT = Path(__file__).resolve().parent.parent


def component(filename: str, function: str) -> str:
    """What a profiled function belongs to: a component above, one of our files, or a C function
    (named, since socket reads and orjson are C functions of the callers' components)."""
    for part, name in COMPONENTS:
        if part in filename:
            return name
    if filename == "~":
        return f"C: {function}"
    path = Path(filename)
    if path.is_relative_to(ROOT) and ".venv" not in path.parts:
        return str(path.relative_to(ROOT))
    return "other Python (" + (path.parent.name or filename) + ")"


def by_component(profiler: cProfile.Profile, requests: int, top: int = 25, unit: str = "request") -> str:
    """Own time (tottime) per component, ms per `unit` (`requests` of them) and share, largest
    first."""
    totals: defaultdict[str, float] = defaultdict(float)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, own, _cum, _callers) in stats.items():
        totals[component(filename, function)] += own
    whole = sum(totals.values())
    lines = [f"{'component':<60} {'ms/' + unit:>16} {'share':>6}"]
    for name, own in sorted(totals.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"{name[:60]:<60} {own / requests * 1e3:>16.3f} {own / whole:>6.1%}")
    return "\n".join(lines)
