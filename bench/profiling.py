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
    ("/anyio/", "event loop and thread pool (anyio)"),
    ("/threading.py", "event loop and thread pool (anyio)"),
    ("/concurrent/", "event loop and thread pool (anyio)"),
    ("/limits/", "rate limits (limits)"),
    ("/psycopg/", "PostgreSQL client (psycopg)"),
    ("/eventsourcing/", "eventsourcing (stored events, aggregates)"),
    ("/pypinyin/", "pypinyin"),
)
ROOT = Path(__file__).resolve().parent.parent


def component(filename: str, function: str) -> str:
    """What a profiled function belongs to: a component above, one of our files, or a C function
    (named, since socket reads and orjson are C functions of the callers' components)."""
    if filename == "~":
        return f"C: {function}"
    path = Path(filename)
    if not path.is_absolute() and (ROOT / path).is_file():  # py-spy names our files relative
        path = ROOT / path
    if path.is_relative_to(ROOT) and ".venv" not in path.parts:
        return str(path.relative_to(ROOT))
    where = "/" + filename.lstrip("/")  # py-spy names a library's files from its package
    for part, name in COMPONENTS:
        if part in where:
            return name
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


def _frame_file(frame: str) -> tuple[str, str]:
    """(file, function) of one frame of py-spy's raw (collapsed) output: `function (file:line)`."""
    function, _, rest = frame.partition(" (")
    return rest.rpartition(":")[0], function


def collapsed_by_component(path: Path, keep: tuple[str, ...] = (), top: int = 25) -> str:
    """Samples of a py-spy `record -f raw` file by the component of their innermost frame (own
    time; the standard library's frames count for the component that called them, so
    http.client's header parsing is the Elasticsearch client's), and by component anywhere on the stack
    (inclusive): only the stacks that contain one of `keep` (e.g. the timed loop's function, and
    the thread pool's worker) when it is given."""
    own: defaultdict[str, int] = defaultdict(int)
    inclusive: defaultdict[str, int] = defaultdict(int)
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or (keep and not any(k in stack for k in keep)):
            continue
        count = int(count_text)
        total += count
        names = [component(*_frame_file(f)) for f in stack.split(";")]
        named = [n for n in names if not n.startswith("other Python")]
        own[named[-1] if named else names[-1]] += count
        for name in set(names):
            inclusive[name] += count
    if not total:
        return "no samples"
    lines = [f"{total:,} samples", f"{'component':<60} {'own':>6} {'incl.':>6}"]
    for name, n in sorted(own.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"{name[:60]:<60} {n / total:>6.1%} {inclusive[name] / total:>6.1%}")
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="py-spy raw output by component")
    parser.add_argument("file", type=Path)
    parser.add_argument("--keep", nargs="*", default=(), help="only the stacks that contain one of these")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(collapsed_by_component(args.file, tuple(args.keep), args.top))
