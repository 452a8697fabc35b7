"""The followers of the notification log split over two processes on the real engines: one
`gongshi run projections --only entities,records,sharing` (the search index on Elasticsearch), one
`--only publication_status --only casework --only changes` (the views in PostgreSQL and the change
feed on Kafka), over one small register in PostgreSQL — some of it stored before they start, some
while they run. Each follower's position is its own, so each reaches the head, and what they wrote
is complete and not doubled: the index holds what the same projections write in one process (into
an embedded index), every publication has its status, and each change is announced once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from adapters.search_index.base import PROJECTIONS, RecordQuery, SearchIndex
from infra.bootstrap import FOLLOWER_NAMES, Container
from infra.datagen.generator import generate
from infra.settings import Settings
from projections.changes import ChangeMessage
from tests.builders import TODAY, envelope, penalty_payload
from tests.integration.conftest import ROOT, SettingsFactory, settings_json
from tests.integration.flow import read_all, wait_for

pytestmark = pytest.mark.engines

ENTITIES = 60
WAIT_S = 180.0
INDEX = ["entities,records,sharing"]
REST = ["publication_status", "casework", "changes"]


def gongshi_env(settings: Settings) -> dict[str, str]:
    """The environment a `gongshi` process reads these settings from (none of the caller's own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGSHI_")}
    for name, value in json.loads(settings_json(settings)).items():
        if value is not None:
            text = json.dumps(value) if isinstance(value, list | dict) else str(value)
            env[f"GONGSHI_{name.upper()}"] = text
    return env


class Projections:
    """`python -m api.cli run projections --only …` on the settings; output to a log file."""

    def __init__(self, settings: Settings, only: list[str], log_path: Path) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115  (closed in stop)
        words = [w for name in only for w in ("--only", name)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "run", "projections", *words],
            cwd=ROOT,
            env=gongshi_env(settings),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM (a clean stop); the exit code (SIGKILL, and -9, if it does not stop in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=30)
        self._log.close()
        return code


@pytest.fixture
def processes() -> Iterator[list[Projections]]:
    started: list[Projections] = []
    yield started
    for process in started:
        process.stop()


def test_two_processes_with_disjoint_followers_each_reach_the_head_writing_everything_once(
    settings_for: SettingsFactory, processes: list[Projections], tmp_path: Path
) -> None:
    settings = settings_for("projsplit", partitions=2, elasticsearch=True, projection_batch_size=50)
    main = Container(settings)
    oracle = Container(settings.model_copy(update={"elasticsearch_url": None, "data_dir": tmp_path / "one"}))
    try:
        register = list(generate(ENTITIES, 20261201, TODAY))
        half = len(register) // 2
        main.registry.process(register[:half])
        for follower in main.followers:  # their tables and indexes, before two processes race to
            follower.position()  # create them (as bench/load_real.py does)

        processes.append(Projections(settings, INDEX, tmp_path / "index.log"))
        processes.append(Projections(settings, REST, tmp_path / "rest.log"))
        wait_for(
            lambda: all("api.supervisor: started" in p.output() for p in processes),
            "both processes to start their followers",
            WAIT_S,
            detail=lambda: "\n".join(p.output()[-3000:] for p in processes),
        )
        assert "started entities, records, sharing\n" in processes[0].output()
        assert "started publication_status, casework, changes\n" in processes[1].output()

        # the rest arrives while they run, and a penalty for some of the entities
        main.registry.process(register[half:])
        usccs = sorted({e["uscc"] for e in register if e["kind"] == "registration.registered"})
        penalties = [
            envelope(
                "penalty.imposed",
                penalty_payload(f"津市监罚〔2026〕{n}号"),
                uscc=uscc,
                publication_id=f"SPLIT-P-{n}",
            )
            for n, uscc in enumerate(usccs[:10])
        ]
        main.registry.process(penalties)
        head = main.followers[0].head()

        def positions() -> dict[str, int]:
            return {f.name: f.position() for f in main.followers}

        wait_for(
            lambda: all(p == head for p in positions().values()),
            f"every follower at the head ({head})",
            WAIT_S,
            detail=lambda: f"{positions()}\n" + "\n".join(p.output()[-3000:] for p in processes),
        )
        assert set(positions()) == set(FOLLOWER_NAMES)
        assert all(p.proc.poll() is None for p in processes), "a process ended on its own"
        assert [p.stop() for p in processes] == [0, 0]

        # the index: what the same projections write in one process (into an embedded index)
        assert oracle.catch_up() > 0

        def counts(index: SearchIndex) -> dict[str, int]:
            found = {name: index.count(name) for name in PROJECTIONS}
            found["publicised records"] = index.records(RecordQuery(), TODAY, size=1).total
            return found

        expected = counts(oracle.index)
        assert expected["entities"] == len(usccs) and expected["publicised records"] > 0
        wait_for(  # searchable after Elasticsearch's next refresh (1 s)
            lambda: counts(main.index) == expected,
            f"the index to hold {expected}",
            WAIT_S,
            detail=lambda: str(counts(main.index)),
        )
        assert all(main.index.get_sharing(uscc) is not None for uscc in usccs)

        # every publication has its status, and each change is announced once
        ids = [e["publication_id"] for e in register + penalties]
        assert set(main.status_view.get_many(ids)) == set(ids)
        announced = [
            ChangeMessage.model_validate_json(r.value) for r in read_all(main.log, settings.changes_topic)
        ]
        doubled = [p for p, n in Counter(c.position for c in announced).items() if n > 1]
        assert doubled == []
        assert {c.uscc for c in announced} == set(usccs)
        penalty_ids = {p["publication_id"] for p in penalties}
        assert len([c for c in announced if c.publication_id in penalty_ids]) == len(penalties)
    finally:
        oracle.close()
        main.close()
