"""Scale-out with processes: two ingestion workers (one consumer group) and two API processes
against one Kafka, PostgreSQL and Elasticsearch. Departments post publications to either API;
mid-run one API process and then one worker are killed with SIGKILL. A post that got no answer
is sent again to the other API (same publication id). In the end every publication is applied
exactly once — never lost, never doubled, also those posted twice (twenty are sent again at the
end, as a client that timed out would) — and the entities are served
by the surviving API, read from Elasticsearch."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from infra.bootstrap import Container
from infra.settings import Settings
from tests.builders import GENEROUS_LIMITS, envelope, penalty_payload, registered, uscc_for
from tests.integration.conftest import ROOT, SettingsFactory, StartWorker, settings_json
from tests.integration.flow import wait_for
from tests.integration.ordering import entity_publications

pytestmark = pytest.mark.engines

ENTITIES = 150  # 300 publications: a registration and a penalty each
PARTITIONS = 6
WAIT_S = 120.0


class ApiProcess:
    """`python -m tests.integration.api_proc` on a free port; stderr to a log file."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115  (closed in kill)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.api_proc", settings_json(settings), str(self.port)],
            cwd=ROOT,
            stderr=self._log,
        )

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


@pytest.fixture
def apis(tmp_path: Path) -> Iterator[list[ApiProcess]]:
    started: list[ApiProcess] = []
    yield started
    for api in started:
        api.kill()


class Poster(threading.Thread):
    """Posts each publication to the APIs in turn; one that gets no 202 (the process is gone,
    the connection reset) goes to the next API, as a department's client would retry."""

    def __init__(self, apis: list[ApiProcess], bodies: list[dict], key: str) -> None:
        super().__init__(name="poster", daemon=True)
        self.apis = apis
        self.bodies = bodies
        self.headers = {"Authorization": f"Bearer {key}"}
        self.accepted = 0
        self.retried: list[str] = []
        self.error: BaseException | None = None
        self.go_on = threading.Event()
        self.go_on.set()

    def run(self) -> None:
        try:
            with httpx.Client(timeout=10) as client:
                for i, body in enumerate(self.bodies):
                    self.go_on.wait()
                    self._post(client, i, body)
        except BaseException as err:
            self.error = err

    def _post(self, client: httpx.Client, i: int, body: dict) -> None:
        for attempt in range(10):
            api = self.apis[(i + attempt) % len(self.apis)]
            try:
                answer = client.post(f"{api.url}/api/v1/publications", json=body, headers=self.headers)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 202:
                self.accepted += 1
                return
            self.retried.append(body["publication_id"])
            time.sleep(0.2)
        raise AssertionError(f"no API accepted {body['publication_id']}")


def test_two_workers_and_two_apis_lose_nothing_and_double_nothing_when_one_of_each_is_killed(
    settings_for: SettingsFactory, worker_processes: StartWorker, apis: list[ApiProcess], tmp_path: Path
) -> None:
    settings = settings_for("scaleproc", partitions=PARTITIONS, elasticsearch=True, **GENEROUS_LIMITS)
    main = Container(settings)
    try:
        # the tables, before four processes race to create them
        main.registry.position("log:none:0")
        main.status_view  # noqa: B018
        key = main.credentials.add_key("TJ-AMR")
        bodies: list[dict] = []
        for n in range(ENTITIES):
            uscc = uscc_for(7_000 + n)
            bodies.append(
                registered(uscc=uscc, name=f"天津扩展{n}号科技有限公司", publication_id=f"SO-R-{n}")
            )
            penalty = penalty_payload(decision_no=f"津市监罚〔2026〕{n}号")
            bodies.append(envelope("penalty.imposed", penalty, uscc=uscc, publication_id=f"SO-P-{n}"))
        ids = [b["publication_id"] for b in bodies]

        workers = [worker_processes(settings, "worker-1"), worker_processes(settings, "worker-2")]
        apis.extend(
            [ApiProcess(settings, tmp_path / "api-1.log"), ApiProcess(settings, tmp_path / "api-2.log")]
        )
        wait_for(
            lambda: all(a.ready() for a in apis),
            "both API processes to answer",
            WAIT_S,
            detail=lambda: "\n".join(a.tail() for a in apis),
        )

        sources = [f"log:{settings.publications_topic}:{p}" for p in range(PARTITIONS)]

        def recorded() -> int:
            return sum((main.registry.position(s) or -1) + 1 for s in sources)

        def detail() -> str:
            return "\n".join(f"--- {w.log_path.name}\n{w.tail()}" for w in workers)

        poster = Poster(apis, bodies, key)
        poster.start()
        wait_for(lambda: poster.accepted >= len(bodies) // 3, "a third of the posts", WAIT_S)
        apis[0].kill()  # the first API dies mid-run; its posts go to the second
        wait_for(
            lambda: poster.accepted >= 2 * len(bodies) // 3 and recorded() >= 50,
            "two thirds",
            WAIT_S,
            detail=detail,
        )
        workers[0].kill()  # one worker dies mid-run; the group gives its partitions to the other
        poster.join(timeout=WAIT_S)
        assert not poster.is_alive() and poster.error is None, repr(poster.error)
        assert poster.accepted == len(bodies)
        # a client that timed out sends again what had in fact arrived: stored twice, applied once
        again = Poster(apis[1:], bodies[:20], key)
        again.run()
        assert again.error is None and again.accepted == 20

        ends = main.log.end_offsets(settings.publications_topic)
        wait_for(
            lambda: recorded() == sum(ends.values()),
            "every stored message to be recorded",
            WAIT_S,
            detail=detail,
        )
        assert workers[1].alive(), workers[1].tail()
        counts = workers[1].stop()

        applied = entity_publications(main.registry)
        occurrences = Counter(pid for pids in applied.values() for pid in pids)
        assert sorted(occurrences) == sorted(ids), "a publication was lost"
        assert [pid for pid, n in occurrences.items() if n != 1] == [], "a publication was applied twice"
        assert all(pids[0].startswith("SO-R-") for pids in applied.values())  # registration first
        stored = sum(ends.values())
        assert stored >= len(bodies) + 20
        print(
            f"posted {len(bodies)} ({len(poster.retried)} sent again after a failure), stored {stored} "
            f"messages; the surviving worker's counts: {counts}"
        )

        main.catch_up()
        with httpx.Client(base_url=apis[1].url, timeout=10) as client:
            for n in (0, ENTITIES // 2, ENTITIES - 1):
                record = client.get(f"/api/v1/entities/{uscc_for(7_000 + n)}").json()
                assert record["name"] == f"天津扩展{n}号科技有限公司"
                assert [p["decision_no"] for p in record["penalties"]] == [f"津市监罚〔2026〕{n}号"]
            # searchable once Elasticsearch has refreshed (within a second)
            wait_for(
                lambda: (
                    client.get("/api/v1/entities", params={"q": "天津扩展", "size": 1}).json()["total"]
                    == ENTITIES
                ),
                "every entity to be found by name",
                WAIT_S,
            )
    finally:
        main.close()
