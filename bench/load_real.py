"""Benchmark: a whole generated register through the real pipeline — Kafka, the ingestion
worker(s), PostgreSQL, the live projections on Elasticsearch and the change feed — with each
stage's rate, the lag curve, and the time until everything is searchable (issue 16, goal 2).

1. generates N entities' publications (`infra.datagen.generator`, sorted by date as the backfill
   feed) into a file, then a publisher process streams them to a fresh topic (key = USCC), each
   signed with the platform's key as bench/ingest.py does (memory bounded: the generator sorts
   one year at a time; the producer reads the file line by line);
2. `gongshi run ingest` × `--workers` (processes in one consumer group) apply them into a fresh
   PostgreSQL schema, while
3. `gongshi run projections` (one process, every follower of the notification log in a thread
   of its own, as in production: the entities, records and sharing projections on
   Elasticsearch, the publication statuses, the casework view, the change feed) follows the
   event store — or several such processes, each with `--only` some of the followers
   (`--projection-processes`: `one`, the default, is one process for all; `split` is two, the
   three index projections in one and the rest in the other; or a grouping of your own, groups
   separated by `/`, names by commas, every follower in exactly one group, e.g.
   `entities/records,sharing/publication_status,casework,changes` for three processes);
4. every `--sample-every` seconds the parent reads what was produced (the topic's end offsets),
   what is applied (the offsets recorded with the events), the event store's head and each
   follower's position; it prints the lag curve, each stage's rate (overall, and steady: from
   10 % to 90 % of its final count), the end-to-end time from the first message produced until
   every follower is at the head and a search for the last registered entity answers, and a
   linear extrapolation to 1,000,000 entities from the steady rates;
5. then times `gongshi projections rebuild entities` from that store (the CLI, in a subprocess);
6. prints the command that reproduces the run, the machine (cores, load average) and each
   process's peak RSS (VmHWM, sampled while it runs; the publisher's read at its end).

Not checked: the documents' contents (the integration tests do), the outcome of each
publication beyond the worker's counts, anything on the HTTP side. The generation itself is
timed but left out of the end-to-end time (departments' publications arrive; they are not made).

Needs the real engines (`make services-up`; Kafka login from GONGSHI_KAFKA_USERNAME / _PASSWORD /
_SASL_MECHANISM, default gongshi/gongshi over SCRAM-SHA-512). Uses a unique topic prefix,
schema and index prefix, removed at the end (also on failure or Ctrl-C) unless `--keep`.

    .venv/bin/python bench/load_real.py --entities 2000
    .venv/bin/python bench/load_real.py --entities 100000 --workers 2
    .venv/bin/python bench/load_real.py --entities 100000 --projection-processes split
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg.sql import SQL, Identifier

from adapters.search_index.base import PROJECTIONS
from bench.export import Load, peak_mb
from bench.ingest import DEFAULTS, cleanup
from domain.uscc import partition_key
from infra.bootstrap import FOLLOWER_NAMES, Container
from infra.datagen.generator import write_jsonl
from infra.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1_000_000  # entities of the whole register the goal is stated for


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    if args.child_publish:
        child_publish(json.loads(args.child_publish))
        return
    run(args, command_line(parser, args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--today", default="2026-11-22")
    parser.add_argument("--workers", type=int, default=1, help="`gongshi run ingest` processes, one group")
    parser.add_argument(
        "--projection-processes",
        default="one",
        type=projection_groups_spec,
        help="`one` (every follower in one process), `split` (the index projections / the rest), or "
        "groups of follower names: `entities,records,sharing/publication_status,casework,changes`",
    )
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=500, help="the worker's max records per poll")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument(
        "--timeout",
        type=float,
        default=4 * 3600.0,
        help="stop after this many s and report what was reached (rates of unfinished stages: last quarter)",
    )
    parser.add_argument("--no-rebuild", action="store_true", help="skip timing the rebuild")
    parser.add_argument("--keep", action="store_true", help="keep the topics, schema and indexes")
    parser.add_argument("--kafka", default=DEFAULTS["--kafka"])
    parser.add_argument("--postgres", default=DEFAULTS["--postgres"])
    parser.add_argument("--elasticsearch", default="http://127.0.0.1:9200")
    parser.add_argument("--child-publish", help=argparse.SUPPRESS)
    return parser


#: `--projection-processes split`: the three index projections, and the rest.
SPLIT = f"{','.join(PROJECTIONS)}/{','.join(n for n in FOLLOWER_NAMES if n not in PROJECTIONS)}"


def projection_groups(spec: str) -> list[list[str]]:
    """The followers of each `gongshi run projections` process: `one` → one group of all of them,
    `split` → the index projections and the rest, else groups separated by `/`, names by commas;
    every follower in exactly one group (a run waits for all of them to reach the head)."""
    text = {"one": ",".join(FOLLOWER_NAMES), "split": SPLIT}.get(spec, spec)
    groups = [[n.strip() for n in group.split(",") if n.strip()] for group in text.split("/")]
    named = [n for group in groups for n in group]
    if any(not group for group in groups):
        raise ValueError(f"an empty group in {spec!r}")
    if unknown := sorted(set(named) - set(FOLLOWER_NAMES)):
        raise ValueError(
            f"no follower named {', '.join(unknown)}; the followers: {', '.join(FOLLOWER_NAMES)}"
        )
    if sorted(named) != sorted(FOLLOWER_NAMES):
        twice = sorted({n for n in named if named.count(n) > 1})
        missing = [n for n in FOLLOWER_NAMES if n not in named]
        raise ValueError(f"each follower in exactly one group (twice: {twice}, in none: {missing})")
    return groups


def projection_groups_spec(spec: str) -> str:
    """argparse's check of `--projection-processes` (the value stays as given, for the command line)."""
    try:
        projection_groups(spec)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return spec


def command_line(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The command that reproduces this run: every flag whose value is not the parser's default."""
    words = [".venv/bin/python bench/load_real.py", f"--entities {args.entities}"]
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or action.dest in ("help", "entities"):
            continue
        value = getattr(args, action.dest)
        if value == action.default:
            continue
        flag = action.option_strings[0]
        if isinstance(value, bool):
            words.append(flag)
        elif isinstance(value, float):
            words.append(f"{flag} {value:g}")
        else:
            words.append(f"{flag} {value}")
    return " ".join(words)


# --- samples and what is computed from them (pure) -----------------------------------------------


@dataclass
class Sample:
    elapsed: float  # seconds since the first message was produced
    published: int  # messages on the topic
    applied: int  # of them, recorded as applied (or rejected, or parked) in the event store
    head: int  # the event store's last notification id
    positions: dict[str, int] = field(default_factory=dict)  # each follower's


def series(samples: list[Sample], stage: str) -> list[tuple[float, int]]:
    """(elapsed, count) of one stage: published, applied, or a follower's position."""
    if stage in ("published", "applied", "head"):
        return [(s.elapsed, getattr(s, stage)) for s in samples]
    return [(s.elapsed, s.positions.get(stage, 0)) for s in samples]


def overall_rate(points: list[tuple[float, int]]) -> tuple[float, float]:
    """(rate, seconds): the final count over the time from the last sample at 0 to the first at
    the final count (so within one sample period of the truth)."""
    final = points[-1][1] if points else 0
    if final <= 0:
        return 0.0, 0.0
    begun = max((t for t, c in points if c == 0), default=points[0][0])
    seconds = _first_at(points, final) - begun
    return (final / seconds if seconds > 0 else 0.0), seconds


def steady_rate(points: list[tuple[float, int]], low: float = 0.1, high: float = 0.9) -> float:
    """Count per second between the first samples at `low` and at `high` of the final count (the
    start-up and the tail left out); the overall rate when those are one sample."""
    final = points[-1][1] if points else 0
    if final <= 0:
        return 0.0
    t_low, c_low = next((t, c) for t, c in points if c >= low * final)
    t_high, c_high = next((t, c) for t, c in points if c >= high * final)
    if t_high > t_low and c_high > c_low:
        return (c_high - c_low) / (t_high - t_low)
    return overall_rate(points)[0]


def recent_rate(points: list[tuple[float, int]], share: float = 0.25) -> float:
    """Count per second over the last `share` of the samples (at least two): the pace of a stage
    that has not finished when the run was stopped."""
    tail = points[-max(2, round(len(points) * share)) :]
    (t0, c0), (t1, c1) = tail[0], tail[-1]
    return (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0


def _first_at(points: list[tuple[float, int]], count: int) -> float:
    return next(t for t, c in points if c >= count)


def extrapolate(entities: int, final: int, rate: float, target: int = TARGET) -> float:
    """Seconds a stage takes for `target` entities: its count scaled linearly by entities, at
    `rate` per second (linear: assumes the rate stays flat as the store and indexes grow)."""
    return final * (target / entities) / rate if rate > 0 else float("inf")


def lag_table(samples: list[Sample], names: list[str], max_rows: int = 60) -> list[str]:
    """The lag curve as a markdown table, thinned to at most `max_rows` (≥ 2) evenly spaced rows,
    the first and the last always among them."""
    header = "| elapsed s | published | applied | head | " + " | ".join(f"{n} pos (lag)" for n in names)
    lines = [header + " |", "|" + "---|" * (4 + len(names))]
    last = len(samples) - 1
    chosen = (
        range(len(samples))
        if len(samples) <= max_rows
        else sorted({round(i * last / (max_rows - 1)) for i in range(max_rows)})
    )
    for s in (samples[i] for i in chosen):
        cells = [f"{s.positions.get(n, 0):,} ({max(0, s.head - s.positions.get(n, 0)):,})" for n in names]
        lines.append(
            f"| {s.elapsed:,.0f} | {s.published:,} | {s.applied:,} | {s.head:,} | " + " | ".join(cells) + " |"
        )
    return lines


# --- processes ------------------------------------------------------------------------------------


def memory_mb(pid: int) -> tuple[float, float]:
    """A live process's (RSS, peak RSS so far): VmRSS and VmHWM; zeros once it is gone."""
    found = {"VmRSS:": 0.0, "VmHWM:": 0.0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line[:6] in found:
                    found[line[:6]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return found["VmRSS:"], found["VmHWM:"]


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    peak_mb: float = 0.0
    rss: list[tuple[float, float]] = field(default_factory=list)  # (wall time, MB) as it runs

    def sample(self) -> None:
        rss, peak = memory_mb(self.proc.pid)
        self.peak_mb = max(self.peak_mb, peak)
        if rss:
            self.rss.append((time.time(), rss))

    def check(self) -> None:
        code = self.proc.poll()
        if code is not None and code != 0:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{self.name} exited with {code}:\n{tail}")

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc.poll() is None:
            self.sample()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(name: str, argv: list[str], env: dict[str, str], logs: Path) -> Child:
    log = logs / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Child(name, proc, log)


def gongshi(*words: str) -> list[str]:
    """`gongshi …` in a subprocess (`python -m api.cli` is the console script)."""
    return [sys.executable, "-m", "api.cli", *words]


# --- the publisher child --------------------------------------------------------------------------


def child_publish(spec: dict[str, Any]) -> None:
    """Generate the register into a file, then stream it to the topic, signed; one JSON line out."""
    container = Container(Settings(**spec["settings"]))
    source = Path(spec["source"])
    started = time.perf_counter()
    count = write_jsonl(source, int(spec["entities"]), int(spec["seed"]), date.fromisoformat(spec["today"]))
    generated = time.perf_counter() - started
    last: dict[str, str] = {}

    def items() -> Any:
        with open(source, "rb") as lines:
            for line in lines:
                envelope = json.loads(line)
                if envelope["kind"] == "registration.registered":
                    last["uscc"] = envelope["uscc"]
                yield partition_key(envelope["uscc"]), line.rstrip(b"\n")

    try:
        Path(spec["started"]).write_text(str(time.time()))  # the parent's clock starts here
        started = time.perf_counter()
        produced = container.log.produce_many(
            container.settings.publications_topic,
            items(),
            headers_for=container.signed_by_platform("job:bench"),
        )
        seconds = time.perf_counter() - started
    finally:
        container.close()
    print(
        json.dumps(
            {
                "generated": count,
                "generate_s": generated,
                "bytes": source.stat().st_size,
                "produced": produced,
                "produce_s": seconds,
                "last_uscc": last.get("uscc"),
                "peak_mb": peak_mb(),
            }
        )
    )


# --- the parent: set up, start the processes, sample, report --------------------------------------


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace, command: str) -> None:
    # Ctrl-C (also when started in the background, where SIGINT comes in ignored) and SIGTERM
    # end the run through the clean-up below
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    prefix = f"loadreal_{uuid.uuid4().hex[:8]}"
    data = Path(tempfile.mkdtemp(prefix="gongshi-load-real-"))
    settings: dict[str, Any] = {
        "data_dir": str(data),
        "today": args.today,
        "prefix": prefix,
        "kafka_bootstrap": args.kafka,
        "kafka_partitions": args.partitions,
        "postgres_dsn": args.postgres,
        "postgres_schema": prefix,
        "elasticsearch_url": args.elasticsearch,
        "consumer_group": f"{prefix}-ingest",
        "ingest_batch_size": args.batch_size,
    }
    # every process reads the same settings: the children from their environment
    env = {**os.environ, **{f"GONGSHI_{key.upper()}": str(value) for key, value in settings.items()}}
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(prefix)))
    container = Container(Settings(**settings))
    children: list[Child] = []
    load = Load()
    load.start()
    load_start = os.getloadavg()
    print(f"load_real: prefix {prefix}, data {data}", flush=True)
    try:
        result = pipeline(args, container, settings, env, data, children)
        for child in children:
            child.stop()
        if not args.no_rebuild:
            result["rebuild"] = rebuild(env, data, container, children)
    finally:
        for child in children:
            child.stop()
        load.stop.set()
        if args.keep:
            container.close()
            kept = " ".join(f"GONGSHI_{k.upper()}={v}" for k, v in settings.items())
            print(f"kept (--keep): the topics, schema and indexes of {prefix}; settings: {kept}")
        else:
            teardown(container, args, prefix, data)
    result.update(load_start=load_start, load_end=os.getloadavg(), load_samples=load.samples)
    report(args, command, result)


def pipeline(
    args: argparse.Namespace,
    container: Container,
    settings: dict[str, Any],
    env: dict[str, str],
    data: Path,
    children: list[Child],
) -> dict[str, Any]:
    s = container.settings
    log = container.log
    log.ensure_topic(s.publications_topic, args.partitions)
    log.ensure_topic(s.dlq_topic, 1)
    _ = container.platform_signer  # registered before any process starts (they share data_dir)
    worker, followers = container.worker, container.followers
    for follower in followers:  # creates the tables and the indexes, once, before the processes
        follower.position()
    follower_names = [f.name for f in followers]
    started = data / "producing"
    spec = {
        "settings": settings,
        "entities": args.entities,
        "seed": args.seed,
        "today": args.today,
        "source": str(data / "register.jsonl"),
        "started": str(started),
    }
    # one process at a time: processes starting together on one schema can trip over each
    # other's CREATE TABLE IF NOT EXISTS ("tuple concurrently updated", seen here)
    for i in range(args.workers):
        children.append(start(f"ingest-{i + 1}", gongshi("run", "ingest"), env, data))
        wait_until_started(children[-1])
    groups = projection_groups(args.projection_processes)
    for i, group in enumerate(groups):
        name = "projections" if len(groups) == 1 else f"projections-{i + 1}"
        only = [] if len(groups) == 1 else ["--only", ",".join(group)]
        children.append(start(name, gongshi("run", "projections", *only), env, data))
        wait_until_started(children[-1])
    # the workers have formed their group before the first message (as in production, where
    # they run before it), or a small run measures the group's rebalances
    wait_for_group(log, s.consumer_group, args.workers, children)
    publisher = start("publisher", [sys.executable, __file__, "--child-publish", json.dumps(spec)], env, data)
    children.append(publisher)

    samples: list[Sample] = []
    published_by: dict[str, Any] | None = None
    t_zero: float | None = None
    deadline = time.monotonic() + args.timeout
    every = max(1, round(30 / args.sample_every))  # a progress line about every 30 s
    while True:
        time.sleep(args.sample_every)
        for child in children:
            child.check()
            child.sample()
        if t_zero is None and started.exists() and started.read_text():
            t_zero = float(started.read_text())
            print("generated; producing", flush=True)
        if published_by is None and publisher.proc.poll() == 0:
            published_by = last_json(publisher.log)
        ends = log.end_offsets(s.publications_topic)
        sample = Sample(
            elapsed=time.time() - (t_zero or time.time()),
            published=sum(ends.values()),
            applied=sum(worker.recorded(ends).values()),
            head=followers[0].head(),
        )
        sample.positions = {f.name: f.position() for f in followers}
        if t_zero is not None:
            samples.append(sample)
            if len(samples) % every == 1:
                # every follower's position, so a run stopped before its end still says who lagged
                at = ", ".join(f"{name} {position:,}" for name, position in sample.positions.items())
                print(
                    f"{sample.elapsed:7.0f} s: published {sample.published:,}, applied {sample.applied:,}, "
                    f"head {sample.head:,}; followers at: {at}",
                    flush=True,
                )
        done = published_by is not None and sample.applied >= published_by["produced"]
        if done and all(p >= sample.head for p in sample.positions.values()):
            break
        if time.monotonic() > deadline:
            if published_by is None or t_zero is None or len(samples) < 3:
                raise SystemExit(f"not done after {args.timeout:.0f} s, nothing to report: {sample}")
            print(f"stopped at --timeout {args.timeout:.0f} s, before the end: a partial report", flush=True)
            break
    assert published_by is not None and t_zero is not None
    stopped = not (done and all(p >= sample.head for p in sample.positions.values()))
    today = date.fromisoformat(args.today)
    found = None if stopped else searchable(container, published_by["last_uscc"], today)
    return {
        "published": published_by,
        "samples": samples,
        "followers": follower_names,
        "stopped": stopped,
        "searchable_s": None if found is None else found - t_zero,
        "last_uscc": published_by["last_uscc"],
        "rejected": sum(log.end_offsets(s.dlq_topic).values()),
        "indexed": container.index.count("entities"),
        "children": children,
        "t_zero": t_zero,
    }


def wait_until_started(child: Child, timeout: float = 180.0) -> None:
    """Until a `gongshi run` process has built what it runs and started it (its log says so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.check()
        if "api.supervisor: started" in child.log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise SystemExit(f"{child.name} did not start in {timeout:.0f} s")


def wait_for_group(log: Any, group: str, members: int, children: list[Child], timeout: float = 180.0) -> None:
    """Until the consumer group is stable with `members` members, each with partitions."""
    admin = log._admin_client()  # KafkaLog's, with the platform's login
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            child.check()
        found = admin.describe_groups([group]).get(group) or {}
        joined = [m for m in found.get("members", []) if m.get("member_assignment")]
        if found.get("group_state") == "Stable" and len(joined) == members:
            return
        time.sleep(1.0)
    raise SystemExit(f"the {members} ingestion workers did not form their group in {timeout:.0f} s")


def last_json(path: Path) -> dict[str, Any]:
    """The last line of a child's output that is a JSON object (its result)."""
    for line in reversed(path.read_text(errors="replace").splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    raise SystemExit(f"no result in {path}")


def searchable(container: Container, uscc: str, today: date, timeout: float = 60.0) -> float:
    """The wall time at which a public search for `uscc` first finds it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(item.get("uscc") == uscc for item in container.index.search(uscc, today).items):
            return time.time()
        time.sleep(0.2)
    raise SystemExit(f"a search for the last registered entity {uscc} found nothing after {timeout:.0f} s")


def rebuild(env: dict[str, str], data: Path, container: Container, children: list[Child]) -> dict[str, Any]:
    """Time `gongshi projections rebuild entities` in a subprocess, with the run's settings."""
    print("rebuilding entities", flush=True)
    started = time.perf_counter()
    child = start("rebuild", gongshi("projections", "rebuild", "entities"), env, data)
    children.append(child)
    while child.proc.poll() is None:
        child.sample()
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    child.check()
    said = re.search(r"entities: (\d+) entities →", child.log.read_text(errors="replace"))
    docs = int(said.group(1)) if said else container.index.count("entities")
    return {"seconds": seconds, "docs": docs}


def teardown(container: Container, args: argparse.Namespace, prefix: str, data: Path) -> None:
    from adapters.publication_log.kafka import KafkaLog

    s = container.settings
    try:
        container.index.delete_all()  # type: ignore[attr-defined]
        container.log.delete_topics([s.changes_topic])
        container.log._admin_client().delete_groups([s.consumer_group])  # type: ignore[attr-defined]
    finally:
        sasl = container.kafka_login()
        container.close()
        cleanup(
            KafkaLog(args.kafka, client_id="gongshi-bench", sasl=sasl),
            args.postgres,
            prefix,
            s.publications_topic,
        )
        shutil.rmtree(data, ignore_errors=True)


# --- the report -----------------------------------------------------------------------------------


def report(args: argparse.Namespace, command: str, r: dict[str, Any]) -> None:
    n = args.entities
    pub = r["published"]
    samples: list[Sample] = r["samples"]
    names: list[str] = r["followers"]
    produced, head = pub["produced"], samples[-1].head
    print()
    groups = projection_groups(args.projection_processes)
    projections = (
        "gongshi run projections"
        if len(groups) == 1
        else " + ".join(f"gongshi run projections --only {','.join(group)}" for group in groups)
    )
    print(
        f"# bench/load_real — Kafka → {args.workers} × gongshi run ingest → PostgreSQL → {projections} "
        f"→ Elasticsearch + change feed, Python {platform.python_version()}"
    )
    print(f"command: {command}")
    print(
        f"entities: {n:,}  publications: {produced:,} ({pub['bytes'] / 1e6:,.1f} MB)  events: {head:,} "
        f"({head / produced:.2f} per publication)  rejected to the DLQ: {r['rejected']:,}  "
        f"entities indexed: {r['indexed']:,}"
    )
    print(
        f"partitions: {args.partitions}, worker batch {args.batch_size}, "
        f"sampled every {args.sample_every:g} seconds"
    )
    print()
    print(
        "## the lag curve (s since the first message produced; lag = head − position, the head read "
        "first: 0 when it moved meanwhile)"
    )
    print("\n".join(lag_table(samples, names)))
    print()
    print("## stages (overall: from the last sample at 0 to the first at the final count, ± one sample)")
    print("| stage | count | time | overall rate | steady rate (10–90 %) | 1,000,000 entities at steady |")
    print("|---|---|---|---|---|---|")
    print(
        f"| generate (not in the end-to-end time) | {pub['generated']:,} publications | "
        f"{pub['generate_s']:.1f} s | {pub['generated'] / pub['generate_s']:,.0f} /s | | |"
    )
    publish_rate = produced / pub["produce_s"]
    estimates = {"publish": extrapolate(n, produced, publish_rate)}
    print(
        f"| publish (signed, to Kafka) | {produced:,} publications | {pub['produce_s']:.1f} s | "
        f"{publish_rate:,.0f} /s | | {minutes(estimates['publish'])} |"
    )
    applied_now = samples[-1].applied
    # a stopped run: the followers' final count is the head the applied share points to
    expected_head = head if not r["stopped"] or not applied_now else round(head * produced / applied_now)
    for stage, unit in [("applied", "publications"), *((name, "notifications") for name in names)]:
        points = series(samples, stage)
        rate, seconds = overall_rate(points)
        expected = produced if stage == "applied" else expected_head
        unfinished = points[-1][1] < expected
        # a stage stopped before its end: its pace over the last quarter of the run
        steady = recent_rate(points) if unfinished else steady_rate(points)
        estimates[stage] = extrapolate(n, expected, steady)
        label = "apply (gongshi run ingest)" if stage == "applied" else f"follower {stage}"
        count = f"{points[-1][1]:,} of {expected:,}" if unfinished else f"{points[-1][1]:,}"
        print(
            f"| {label} | {count} {unit} | {seconds:.0f} s | {rate:,.0f} /s | {steady:,.0f} /s"
            f"{' (last quarter)' if unfinished else ''} | {minutes(estimates[stage])} |"
        )
    slowest = max(estimates, key=lambda k: estimates[k])
    print()
    if r["stopped"]:
        print(
            f"end to end: not reached — stopped at --timeout, {samples[-1].elapsed:,.0f} s after the first "
            f"message produced; the followers' expected count ({expected_head:,}) is the head scaled by "
            "the publications not yet applied"
        )
    else:
        print(
            f"end to end: {r['searchable_s']:.1f} s from the first message produced until every follower "
            f"was at the head and a search for the last registered entity ({r['last_uscc']}) answered"
        )
    whole = ""
    if not r["stopped"]:
        whole = f"; the whole run scaled linearly: {minutes(r['searchable_s'] * TARGET / n)}"
    print(
        f"extrapolated to {TARGET:,} entities (linear, from the steady rates; stages run concurrently, so "
        f"the slowest sets the pace): {minutes(estimates[slowest])} ({slowest}){whole}  (goal ≤ 60 min)"
    )
    rebuilt = r.get("rebuild")
    if rebuilt:
        rate = rebuilt["docs"] / rebuilt["seconds"]
        print(
            f"gongshi projections rebuild entities: {rebuilt['docs']:,} documents in "
            f"{rebuilt['seconds']:.1f} s, the command's process from start to exit ({rate:,.0f} docs/s; "
            f"at {TARGET:,} linearly: {minutes(extrapolate(n, rebuilt['docs'], rate))}, an upper bound "
            "while its start-up weighs; goal ≤ 10 min)"
        )
    print()
    peaks = [f"publisher {pub['peak_mb']:.0f} MB (its own VmHWM)"]
    peaks += [f"{c.name} {c.peak_mb:.0f} MB" for c in r["children"] if c.name != "publisher"]
    print(f"peak RSS (VmHWM sampled while running): {', '.join(peaks)}")
    for child in r["children"]:
        if child.name.startswith(("ingest", "projections")) and child.rss:
            points = child.rss[:: max(1, len(child.rss) // 12)]
            points += child.rss[-1:] if points[-1] is not child.rss[-1] else []
            curve = ", ".join(f"{t - r['t_zero']:,.0f} s: {mb:,.0f}" for t, mb in points)
            print(f"RSS (MB) of {child.name} as the run goes: {curve}")
    start, end, during = r["load_start"], r["load_end"], r["load_samples"]
    spread = f", {min(during):.1f}–{max(during):.1f} during" if during else ""
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; load average at start "
        f"{start[0]:.2f} {start[1]:.2f} {start[2]:.2f}, at end {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}{spread}"
    )


def minutes(seconds: float) -> str:
    return "—" if seconds == float("inf") else f"{seconds / 60:,.1f} min"


if __name__ == "__main__":
    main()
