"""Publishing a file of envelopes, as a department would, and waiting for what became of them.

`gongshi publish` uses this: lines go to the publication log (embedded or Kafka) or through the
HTTP gateway; then, optionally, it polls the status of every accepted publication (the status
view directly, or the gateway's status endpoint) until none is pending.

A line that is not JSON or names no `publication_id` counts as rejected at once; on the log it
is still published, so the worker dead-letters it with its reason.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from adapters.publication_log.base import Headers, PublicationLog
from adapters.status_view import StatusView
from domain.uscc import partition_key
from ingestion.worker import IngestionWorker
from projections.following import Follower

DECIDED = ("applied", "parked", "rejected")


@dataclass(frozen=True)
class Line:
    value: bytes
    key: str | None  # the partition key (`domain.uscc.partition_key` of the envelope's USCC)
    publication_id: str | None


def read_lines(path: Path) -> list[Line]:
    lines = []
    with path.open("rb") as f:
        for raw in f:
            value = raw.strip()
            if not value:
                continue
            try:
                parsed: Any = json.loads(value)
            except ValueError:
                parsed = None
            fields = parsed if isinstance(parsed, dict) else {}
            uscc, pid = fields.get("uscc"), fields.get("publication_id")
            lines.append(
                Line(
                    value,
                    partition_key(uscc) if isinstance(uscc, str) else None,
                    pid if isinstance(pid, str) and pid.strip() else None,
                )
            )
    return lines


@dataclass
class Tally:
    """What became of a file's lines."""

    accepted: int = 0
    rejected_now: int = 0  # not JSON, no publication_id, or refused by the gateway
    refusals: Counter[str] = field(default_factory=Counter)  # the gateway's codes
    ids: dict[str, None] = field(default_factory=dict)  # accepted publication ids, in order
    statuses: dict[str, str] = field(default_factory=dict)  # decided ones

    def count(self, status: str) -> int:
        return sum(1 for s in self.statuses.values() if s == status)

    @property
    def pending(self) -> list[str]:
        return [pid for pid in self.ids if pid not in self.statuses]

    def summary(self, waited: bool) -> str:
        rejected = self.rejected_now + self.count("rejected")
        text = f"accepted {self.accepted}, rejected {rejected}"
        if waited:
            text += f", parked {self.count('parked')}, applied {self.count('applied')}"
            if self.pending:
                text += f", pending {len(self.pending)}"
        return text


def to_log(
    log: PublicationLog,
    topic: str,
    lines: Sequence[Line],
    on_progress: Callable[[int], None],
    sign: Callable[[bytes], Headers],
) -> Tally:
    """Every line onto the log, signed (`sign(value)` gives its signature headers)."""
    tally = Tally()
    for line in lines:
        if line.publication_id is None:
            tally.rejected_now += 1
        else:
            tally.accepted += 1
            tally.ids[line.publication_id] = None
    log.produce_many(
        topic, ((line.key, line.value) for line in lines), on_progress=on_progress, headers_for=sign
    )
    return tally


class GatewayRefused(Exception):
    """The gateway refused the credential or is unavailable: publishing cannot go on."""


class Gateway:
    """A department's client of the HTTP gateway."""

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 30.0) -> None:
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
        )

    def post_all(self, lines: Iterable[Line], on_progress: Callable[[int], None]) -> Tally:
        tally = Tally()
        for done, line in enumerate(lines, start=1):
            response = self._call(
                "POST",
                "/api/v1/publications",
                content=line.value,
                headers={"Content-Type": "application/json"},
            )
            if response.status_code == 202:
                tally.accepted += 1
                tally.ids[response.json()["publication_id"]] = None
            elif response.status_code == 401:
                raise GatewayRefused(_reason(response))
            elif 400 <= response.status_code < 500:
                tally.rejected_now += 1
                tally.refusals[_code(response)] += 1
            else:
                raise GatewayRefused(f"网关返回 {response.status_code}：{_reason(response)}")
            on_progress(done)
        return tally

    def statuses(self, ids: Sequence[str]) -> dict[str, str]:
        out = {}
        for pid in ids:
            response = self._call("GET", f"/api/v1/publications/{quote(pid, safe='')}")
            if response.status_code != 200:
                raise GatewayRefused(f"查询 {pid} 的状态失败（{response.status_code}）：{_reason(response)}")
            status = response.json()["status"]
            if status in DECIDED:
                out[pid] = status
        return out

    def _status_projection(self) -> dict[str, Any] | None:
        """The status projection's position, head and lag (`GET /api/v1/gateway/progress`)."""
        try:
            response = self.client.get("/api/v1/gateway/progress")
            state = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def activity(self) -> object:
        state = self._status_projection()
        return None if state is None else (state.get("position"), state.get("head"))

    def behind(self) -> list[str]:
        state = self._status_projection()
        if state and state.get("lag"):
            return [f"处理状态落后事件库 {state['lag']} 条：网关所在的服务没有运行投影"]
        return []

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request; over the key's rate limit (429), wait as long as `Retry-After` says
        (at most a minute each time) and send it again."""
        for _ in range(MAX_RATE_LIMITED):
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.HTTPError as err:
                raise GatewayRefused(f"无法连接网关 {self.client.base_url}：{err}") from err
            if response.status_code != 429:
                return response
            time.sleep(_retry_after(response))
        raise GatewayRefused(f"网关多次拒绝（访问过于频繁）：{_reason(response)}")

    def close(self) -> None:
        self.client.close()


MAX_RATE_LIMITED = 30


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(60.0, max(0.5, float(response.headers.get("Retry-After", "1"))))
    except ValueError:
        return 1.0


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", response.status_code))
    except ValueError:
        return str(response.status_code)


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('code')}：{body.get('message')}"
    except ValueError:
        return response.text[:200]


class StatusSource(Protocol):
    def statuses(self, ids: Sequence[str]) -> dict[str, str]:
        """The decided statuses among `ids` (pending ones are left out)."""

    def activity(self) -> object:
        """Something that changes whenever the ingestion worker or the status projection moves
        (None when it cannot be read): while it changes, waiting goes on."""

    def behind(self) -> list[str]:
        """What is left undone, in Chinese, one line per part (the worker, the status projection)."""


class ViewStatuses:
    """Statuses read from the status view directly (for --via log / kafka); progress read from
    the event store (the worker's recorded positions, the status projection's position)."""

    def __init__(self, view: StatusView, worker: IngestionWorker, status: Follower) -> None:
        self.view = view
        self.worker = worker
        self.status = status

    def statuses(self, ids: Sequence[str]) -> dict[str, str]:
        rows = self.view.get_many(ids)
        return {pid: str(row["status"]) for pid, row in rows.items() if row["status"] in DECIDED}

    def activity(self) -> object:
        partitions = self.worker.log.end_offsets(self.worker.topic)
        return (self.worker.recorded(partitions), self.status.head(), self.status.position())

    def behind(self) -> list[str]:
        lines = []
        if unapplied := self.worker.unapplied():
            lines.append(f"公示队列中还有 {unapplied} 条未被应用：摄取进程（gongshi run ingest）没有在运行")
        if lag := self.status.lag():
            lines.append(f"处理状态落后事件库 {lag} 条：投影进程（gongshi run projections）没有在运行")
        return lines


class Waited(Enum):
    settled = "settled"  # every accepted publication is applied, parked or rejected
    timed_out = "timed_out"  # still moving when the time was up
    stalled = "stalled"  # nothing moved for `stall_s`: no worker is running


def wait_for(
    source: StatusSource,
    tally: Tally,
    timeout_s: float,
    on_progress: Callable[[int], None],
    *,
    stall_s: float | None = None,
    poll_s: float = 0.5,
    chunk: int = 500,
) -> Waited:
    """Poll until every accepted publication is decided, `timeout_s` passes, or — with `stall_s`
    — neither a status nor the source's activity has changed for `stall_s` seconds."""
    started = time.monotonic()
    deadline = started + timeout_s
    last_move, last_seen = started, None
    while True:
        for part in _chunks(tally.pending, chunk):
            tally.statuses.update(source.statuses(part))
            on_progress(len(tally.statuses))
        if not tally.pending:
            return Waited.settled
        now = time.monotonic()
        seen = (len(tally.statuses), source.activity())
        if seen != last_seen:
            last_move, last_seen = now, seen
        if now >= deadline:
            return Waited.timed_out
        if stall_s is not None and now - last_move >= stall_s:
            return Waited.stalled
        time.sleep(poll_s)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
