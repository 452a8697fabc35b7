"""One supervisor for the threads that follow the logs: the ingestion worker, the projections,
the publication status, the casework view, the change feed, the daily publicity job, the daily
deadline jobs (annual reports, removals, escalation) and the daily open-data release.

`gongshi serve` (the app's lifespan with `run_background=True`) and `gongshi run ingest |
projections` both start theirs here: `runners_for(container, role)` says which runners a role
runs (`gongshi run projections --only NAME`: some of the followers), `Supervisor` runs each in a
thread of its own and stops them all.

- Each runner's `run_forever` keeps going through the errors it expects (it logs and retries);
  one that raises anyway, or returns before it was asked to stop, is reported: logged with its
  name, kept in `failures`, and `wait()` returns so that `gongshi run` can exit non-zero.
- `stop()` asks every runner to stop, then joins their threads against one deadline; it returns
  the names of those still running (daemon threads, so they never keep the process alive).
- The daily runners run under `Exclusive`: with several `gongshi serve` processes each job runs in
  the one process holding its leader lock (`adapters.leader_lock`), the others stand by.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Sequence
from enum import Enum
from typing import Protocol

from adapters.leader_lock import LeaderLock
from infra.bootstrap import Container

log = logging.getLogger(__name__)


class Runner(Protocol):
    """What the supervisor runs: a loop until `stop()` is called."""

    name: str

    def run_forever(self) -> None: ...

    def stop(self) -> None: ...


class Role(str, Enum):
    """What a process runs in the background."""

    serve = "serve"  # everything, beside the API (`gongshi serve`)
    ingest = "ingest"  # the ingestion worker (`gongshi run ingest`)
    projections = "projections"  # every follower of the notification log (`gongshi run projections`)


def runners_for(container: Container, role: Role, only: Collection[str] | None = None) -> list[Runner]:
    """The runners of `role`; for `Role.projections`, `only` names the followers to run (`gongshi
    run projections --only`: several processes, each with a disjoint subset; each follower's
    position is its own, read from its store). None runs them all."""
    if only is not None and role is not Role.projections:
        raise ValueError(f"only the projections role runs a subset, not {role.value}")
    if role is Role.ingest:
        return [container.worker]
    if role is Role.projections:
        return list(container.followers if only is None else container.followers_named(only))
    daily: list[Runner] = [container.publicity, container.deadline_jobs, container.parked_expiry]
    if container.settings.open_data_daily:
        daily.append(container.open_data)
    # one process at a time runs the daily jobs and delivers the webhooks (two would send twice)
    exclusive = [Exclusive(r, container.leader_lock(r.name)) for r in (*daily, container.webhooks)]
    return [container.worker, *container.followers, *exclusive]


class LeaderLost(RuntimeError):
    """The lock a running job held is gone (its database connection ended)."""


class Exclusive:
    """Runs `runner` only while this process holds `lock`: it tries the lock every `retry_s`
    until it gets it (or is stopped), then runs the runner, checking every `check_every_s` that
    the lock is still held. A lock lost while running (the database connection behind it ended,
    so another process may take it) stops the runner and raises `LeaderLost`: the supervisor
    reports it like any failed runner, rather than two processes running one daily job."""

    def __init__(
        self, runner: Runner, lock: LeaderLock, *, retry_s: float = 15.0, check_every_s: float = 15.0
    ) -> None:
        self.runner = runner
        self.lock = lock
        self.name = runner.name
        self.retry_s = retry_s
        self.check_every_s = check_every_s
        self.leading = threading.Event()  # set while this process runs the job
        self._stop = threading.Event()

    def run_forever(self) -> None:
        while not self.lock.try_acquire():
            if self._stop.wait(self.retry_s):
                return
        if self._stop.is_set():
            self.lock.release()
            return
        log.info("%s: this process runs it (leader lock %s)", self.name, self.lock.name)
        lost = threading.Event()
        done = threading.Event()
        watcher = threading.Thread(
            target=self._watch, args=(lost, done), name=f"gongshi-{self.name}-lock", daemon=True
        )
        self.leading.set()
        watcher.start()
        try:
            self.runner.run_forever()
        finally:
            done.set()
            watcher.join()
            self.leading.clear()
            self.lock.release()
        if lost.is_set():
            raise LeaderLost(f"{self.name}: the leader lock {self.lock.name} was lost; the job stopped")

    def _watch(self, lost: threading.Event, done: threading.Event) -> None:
        while not done.wait(self.check_every_s):
            if not self.lock.held():
                log.error("%s: the leader lock %s is lost; stopping the job", self.name, self.lock.name)
                lost.set()
                self.runner.stop()
                return

    def stop(self) -> None:
        self._stop.set()
        self.runner.stop()


class Supervisor:
    def __init__(self, runners: Sequence[Runner], *, join_timeout_s: float = 10.0) -> None:
        names = [r.name for r in runners]
        if len(set(names)) != len(names):
            raise ValueError(f"two runners share a name: {names}")
        self.runners = list(runners)
        self.join_timeout_s = join_timeout_s
        self.failures: dict[str, BaseException] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._ended = threading.Event()  # stop() was called, or a runner ended on its own

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.runners]

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("the supervisor has already started its runners")
        for runner in self.runners:
            thread = threading.Thread(
                target=self._run, args=(runner,), name=f"gongshi-{runner.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        log.info("started %s", ", ".join(self.names))

    def _run(self, runner: Runner) -> None:
        try:
            runner.run_forever()
        except BaseException as err:
            self.failures[runner.name] = err
            log.exception("%s stopped by an error", runner.name)
            self._ended.set()
            return
        if not self._stopping.is_set():
            self.failures[runner.name] = RuntimeError(f"{runner.name} returned before it was stopped")
            log.error("%s returned before it was stopped", runner.name)
            self._ended.set()

    def running(self) -> list[str]:
        return [t.name.removeprefix("gongshi-") for t in self._threads if t.is_alive()]

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until `stop()` is called or a runner ends on its own (or `timeout_s` passes);
        True while no runner has failed. Wakes up every second, so Ctrl-C gets through."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._ended.is_set():
            left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if left <= 0:
                break
            self._ended.wait(left)
        return not self.failures

    def request_stop(self) -> None:
        """Let `wait()` return (from a signal handler); `stop()` does the stopping."""
        self._ended.set()

    def stop(self) -> list[str]:
        """Stop every runner and join its thread; returns the names still running after
        `join_timeout_s` (logged)."""
        self._stopping.set()
        self._ended.set()
        for runner in self.runners:
            try:
                runner.stop()
            except Exception:
                log.exception("could not ask %s to stop", runner.name)
        deadline = time.monotonic() + self.join_timeout_s
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        stuck = self.running()
        if stuck:
            log.warning("still running after %gs: %s", self.join_timeout_s, ", ".join(stuck))
        else:
            log.info("stopped %s", ", ".join(self.names))
        return stuck

    def __enter__(self) -> Supervisor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
