"""Parked expiry: publications that waited too long for their entity's registration are rejected
to the DLQ with reason `parked_expired`, so nothing waits forever unseen.

A publication parked on system date D expires once the system date is after D + `days`
(`GONGSHI_PARKED_EXPIRY_DAYS`, default 90): `run(today)` rejects every one parked before
`today - days`. Each goes to the DLQ first — its envelope as parked (the platform's JSON of it;
the original bytes were decided long ago), keyed by its USCC, with headers `reason`, `message`,
`parked_on` and the key and principal that signed it when it arrived (`gongshi-key-id`,
`gongshi-principal`; no signature: the platform checked it when the publication arrived) — and
only then is the expiry recorded (`Registry.expire_parked`), so a crash in between loses nothing:
the next run finds them still parked and writes them again.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import date, timedelta

from adapters.publication_log.base import Headers, PublicationLog
from domain.clock import Clock
from domain.registry import Outcome, ParkedItem, Registry
from domain.uscc import partition_key

log = logging.getLogger(__name__)

HEADER_KEY_ID = "gongshi-key-id"  # as adapters.credentials.signing names them (ingestion sees ports only)
HEADER_PRINCIPAL = "gongshi-principal"


class ParkedExpiry:
    """The expiry, by hand (`gongshi jobs run parked-expiry`) or once per system date inside
    `gongshi serve` (`run_forever`). It needs an application object of its own (never the
    worker's: a batch acts on cached aggregates); when the worker touches a lot at the same
    moment, one of the two transactions fails on the lot's version and is tried again."""

    name = "parked-expiry"

    def __init__(
        self,
        registry: Registry,
        log_: PublicationLog,
        dlq_topic: str,
        days: int,
        clock: Clock,
        check_every_s: float = 300.0,
    ) -> None:
        self.registry = registry
        self.log = log_
        self.dlq_topic = dlq_topic
        self.days = days
        self.clock = clock
        self.check_every_s = check_every_s
        self.last_run: date | None = None
        self._stop = threading.Event()

    def run_once(self) -> list[Outcome] | None:
        """Expire for today if not done yet today; None when it was."""
        today = self.clock.today()
        if today == self.last_run:
            return None
        expired = self.run(today)
        self.last_run = today
        if expired:
            log.info("parked expiry %s: %d publications rejected to the DLQ", today, len(expired))
        return expired

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the store or the log may be down: try again at the next check
                log.exception("parked expiry failed; retrying")
            self._stop.wait(self.check_every_s)

    def stop(self) -> None:
        self._stop.set()

    def cutoff(self, today: date) -> date:
        """Publications parked before this system date have waited more than `days`."""
        return today - timedelta(days=self.days)

    def run(self, today: date) -> list[Outcome]:
        return self.registry.expire_parked(self.cutoff(today), on_decided=self._to_dlq)

    def _to_dlq(self, decided: list[tuple[ParkedItem, Outcome]]) -> None:
        for item, outcome in decided:
            value = json.dumps(item.envelope, ensure_ascii=False, sort_keys=True).encode()
            headers: Headers = (
                ("reason", (outcome.code or "").encode()),
                ("message", (outcome.message or "").encode()),
                ("parked_on", item.parked_on.isoformat().encode()),
            )
            if item.provenance is not None:
                headers += ((HEADER_KEY_ID, item.provenance.signing_key_id.encode()),)
                if item.provenance.principal:
                    headers += ((HEADER_PRINCIPAL, item.provenance.principal.encode()),)
            key = partition_key(str(item.envelope["uscc"]))
            self.log.produce(self.dlq_topic, value, key=key, headers=headers)
        self.log.flush()
