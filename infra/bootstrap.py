"""The composition root: builds the whole system from one Settings object.

With no engine configured everything runs embedded (SQLite event store, SQLite publication log,
SQLite FTS5 index) under `GONGSHI_DATA_DIR`. Nothing connects at import time.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.access_log import AccessLog, AccessLogUnavailable
from adapters.audit_trail import AuditTrail
from adapters.casework_view import CaseworkView
from adapters.change_store import ChangeStore
from adapters.clock import FixedDateClock, SystemClock
from adapters.credentials import CredentialStore
from adapters.credentials.signing import Signer, Verifier
from adapters.department_store import DepartmentStore, DepartmentsUnavailable
from adapters.enterprise_store import EnterpriseStore
from adapters.event_store import events_with_positions, load_until, postgres_env, sqlite_env
from adapters.extract_ledger import ExtractLedger
from adapters.extract_seal import ExtractSeal
from adapters.feedback import FeedbackStore
from adapters.leader_lock import FileLeaderLock, LeaderLock, PostgresLeaderLock
from adapters.personal_data import PersonalDataVault
from adapters.publication_log.base import Headers, LogAccess, NoLogAccess, PublicationLog
from adapters.rate_limits import RateLimiter
from adapters.replays import ReplayLedger
from adapters.search_index.base import PROJECTIONS, SearchIndex
from adapters.status_view import StatusView
from adapters.tracking import TrackingStore, open_tracking
from casework.applications import ApplicationDesk, Deadlines, DecisionDesk
from casework.desk import EnterpriseDesk
from casework.jobs import AbnormalRemovalsJob, AnnualReportsJob, DailyJobs, SeriousEscalationJob
from casework.publishing import LogPublisher
from domain.clock import Clock
from domain.departments import DepartmentRegistry, Mandate, seed_changes
from domain.publicity import PublicityPolicy, market_supervision_codes
from domain.registry import Registry
from domain.signatures import PLATFORM
from domain.workdays import WorkingDays, working_days
from infra.settings import Settings
from ingestion.parked_expiry import ParkedExpiry
from ingestion.worker import IngestionWorker
from opendata.daily import DailyOpenData, ReleasePolicy
from opendata.releases import Releases
from projections.casework import CaseworkProjection
from projections.changes import ChangeFeed
from projections.following import Follower
from projections.history import EntityHistory
from projections.publication_status import PublicationStatusProjection
from projections.publicity import DailyPublicity
from projections.runner import EntityProjection, index_projections
from projections.watchlists import WebhookDispatcher, webhook_secret

if TYPE_CHECKING:
    from adapters.publication_log.kafka import SaslLogin


#: The followers of the notification log by name, in the order a catch-up runs them: the search
#: index's three projections, the publication statuses, the casework view, the change feed.
FOLLOWER_NAMES: tuple[str, ...] = (
    *PROJECTIONS,
    PublicationStatusProjection.name,
    CaseworkProjection.name,
    ChangeFeed.name,
)


class UnknownFollower(ValueError):
    """No follower of the notification log has that name."""

    def __init__(self, names: Collection[str]) -> None:
        self.names = list(names)
        super().__init__(
            f"no follower named {', '.join(self.names)}; the followers: {', '.join(FOLLOWER_NAMES)}"
        )


def read_or_create_secret(path: Path) -> bytes:
    """The secret in `path`, made (64 hex characters, readable by the owner only) if missing;
    processes starting at once agree on whichever wrote it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):  # another process created it and may not have written it yet
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text.encode()
            time.sleep(0.05)
        raise RuntimeError(f"{path} is empty: delete it, or set GONGSHI_SECRET_KEY") from None
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip().encode()


@dataclass
class Container:
    settings: Settings = field(default_factory=Settings)

    @cached_property
    def clock(self) -> Clock:
        return FixedDateClock(self.settings.today) if self.settings.today else SystemClock()

    @cached_property
    def personal_data(self) -> PersonalDataVault:
        """One key per natural person, sealing their identity numbers, phones and addresses in the
        stored events (crypto-shredding: `gongshi persons erase`), beside the event store."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.personal_data import PostgresVault

            return PostgresVault(s.postgres_dsn, schema=s.postgres_schema, pepper=self.secret_key)
        from adapters.personal_data import SQLiteVault

        return SQLiteVault(s.data_dir / "personal.sqlite3", pepper=self.secret_key)

    @cached_property
    def department_store(self) -> DepartmentStore:
        """The department registry's history (changes made at run time), beside the event store."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.department_store import PostgresDepartmentStore

            return PostgresDepartmentStore(s.postgres_dsn, schema=s.postgres_schema)
        from adapters.department_store import SQLiteDepartmentStore

        return SQLiteDepartmentStore(s.data_dir / "departments.sqlite3")

    @cached_property
    def departments(self) -> DepartmentRegistry:
        """The departments and their mandates over time: the shipped file seeded into the
        department store once, and every change operators made since; re-read by the ingestion
        worker when it moved (once per batch). When the store cannot be read on first use, the
        shipped file stands in until the next refresh succeeds (logged)."""
        shipped = DepartmentRegistry.load_default()
        store = self.department_store
        try:
            store.seed(seed_changes(shipped.all()))
            return DepartmentRegistry.from_source(store, today=self.clock.today)
        except DepartmentsUnavailable as err:
            logging.getLogger(__name__).warning(
                "department store unavailable, using the shipped file: %s", err
            )
            return DepartmentRegistry(changes=shipped.changes, today=self.clock.today, source=store)

    @cached_property
    def publicity_policy(self) -> PublicityPolicy:
        """The publicity rules' open choices, from the settings."""
        s = self.settings
        return PublicityPolicy(
            market_supervision_departments=market_supervision_codes(self.departments.all()),
            market_supervision_rules=s.publicity_market_supervision_rules,
            small_fine_limit=s.publicity_small_fine_limit,
            publicise_light=s.publicity_publicise_light,
        )

    @cached_property
    def event_store_env(self) -> dict[str, str]:
        s = self.settings
        if s.postgres_dsn:
            env = postgres_env(s.postgres_dsn, schema=s.postgres_schema)
        else:
            env = sqlite_env(s.data_dir)
        if s.aggregate_cache_mb:
            env["AGGREGATE_CACHE_MAX_BYTES"] = str(s.aggregate_cache_mb * 2**20)
        return env

    @cached_property
    def worker_store_env(self) -> dict[str, str]:
        """The event-store settings of the worker's `registry`: its aggregate cache is never
        fast-forwarded (see `registry`)."""
        return {**self.event_store_env, "AGGREGATE_CACHE_FASTFORWARD": "n"}

    @cached_property
    def registry(self) -> Registry:
        """The ingestion worker's application object. Its cached aggregates are authoritative:
        between rebalances a partition's entities are written by this worker alone, so a cached
        aggregate is never fast-forwarded from the store (no query per entity per batch). The
        worker drops the cache on every (re)assignment and `Registry.process` after any failed
        batch. Nothing else reads aggregates through it: the read side has `reader`,
        `entity_reader` and objects of its own."""
        return Registry(
            clock=self.clock,
            departments=self.departments,
            env=self.worker_store_env,
            loader=load_until,
            publicity=self.publicity_policy,
            calendar=self.calendar,
            vault=self.personal_data,
        )

    def _application(self) -> Registry:
        """An application object of its own on the event store (its own aggregate cache), for a
        reader that must share its cache with nothing else. Its `read_latest` and `read_many` read many
        aggregates in two queries (the index projections, the casework follower, the change feed)."""
        return Registry(
            clock=self.clock,
            departments=self.departments,
            env=self.event_store_env,
            loader=load_until,
            publicity=self.publicity_policy,
            calendar=self.calendar,
            vault=self.personal_data,
        )

    @cached_property
    def entity_reader(self) -> Registry:
        """An application object of its own for the enterprise desk and the deadline jobs: they
        read one entity at a time (the whole record, not a document), never through the
        projections' or the worker's cache."""
        return self._application()

    @cached_property
    def calendar(self) -> WorkingDays:
        """Working days: the shipped table, and `GONGSHI_WORKDAYS_FILE`'s later years."""
        table = working_days()
        extra = self.settings.workdays_file
        if extra is not None:
            table = table.extended(WorkingDays.from_json(extra.read_text(encoding="utf-8")))
        return table

    @cached_property
    def enterprise_store(self) -> EnterpriseStore:
        """The enterprises' drafts, what they filed, their evidence files (never public)."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.enterprise_store import PostgresEnterpriseStore

            return PostgresEnterpriseStore(s.postgres_dsn, schema=s.postgres_schema)
        from adapters.enterprise_store import SQLiteEnterpriseStore

        return SQLiteEnterpriseStore(s.data_dir / "enterprise.sqlite3")

    @cached_property
    def publisher(self) -> LogPublisher:
        """What the platform publishes on someone's behalf (enterprises' filings, the deadline
        jobs, departments' decisions), signed with its own key for that principal."""
        return LogPublisher(self.log, self.settings.publications_topic, self.signed_by_platform)

    @cached_property
    def desk(self) -> EnterpriseDesk:
        """The enterprises' use cases."""
        return EnterpriseDesk(
            reader=self.entity_reader,
            store=self.enterprise_store,
            statuses=self.status_view,
            publisher=self.publisher,
            clock=self.clock,
            calendar=self.calendar,
            cases=self.applications.cases,
            reads_of=self.enterprise_reads,
            confidential_delay_days=self.settings.confidential_read_delay_days,
        )

    def enterprise_reads(self, uscc: str, today: date, limit: int) -> list[dict[str, Any]] | None:
        """The agencies' reads of `uscc`'s record its enterprise may see today (the access log);
        None when the log cannot be read (the dashboard says so; the API answers 503)."""
        log = self.access_log
        try:
            reads = log.reads_of(uscc, today, limit=limit)
        except AccessLogUnavailable:
            return None
        return [read.for_enterprise(log.confidential_delay_days) for read in reads]

    @cached_property
    def applications(self) -> ApplicationDesk:
        """Enterprises' applications and objections."""
        s = self.settings
        return ApplicationDesk(
            reader=self.entity_reader,
            store=self.enterprise_store,
            publisher=self.publisher,
            clock=self.clock,
            calendar=self.calendar,
            deadlines=Deadlines(
                removal=s.abnormal_removal_working_days,
                repair=s.repair_decision_working_days,
                objection=s.objection_decision_working_days,
            ),
        )

    @cached_property
    def decisions(self) -> DecisionDesk:
        """Departments' decisions on applications and objections."""
        return DecisionDesk(
            reader=self.entity_reader, view=self.casework_view, publisher=self.publisher, clock=self.clock
        )

    @cached_property
    def reader(self) -> Registry:
        """A second application object on the same store for the index projections: its own
        aggregate cache, read without copies under their shared lock and moved on in memory by
        the events their batches hold (projections.runner), never touched by anything else."""
        return self._application()

    @cached_property
    def history(self) -> EntityHistory:
        """Entities' events with their positions, and records as of a date (agencies' reads),
        through the read side's application object (its event store, never its cache)."""
        reader, departments, clock = self.reader, self.departments, self.clock

        def mandate(code: str, recorded_at: datetime) -> Mandate | None:
            # the mandate the ingestion checked the publication against: on its arrival's date
            return departments.mandate(code, clock.date_of(recorded_at), known_at=recorded_at)

        return EntityHistory(
            reader.mapper,
            lambda originator_id: events_with_positions(reader.recorder, originator_id),
            reader.publicity,
            mandate,
        )

    def kafka_login(self, *, admin: bool = False) -> SaslLogin | None:
        """How the platform's Kafka clients log in (`admin`: as the principal that manages the
        departments' users); None for a broker without SASL (`GONGSHI_KAFKA_SASL_MECHANISM=none`)."""
        from adapters.publication_log.kafka import SaslLogin

        s = self.settings
        if s.kafka_sasl_mechanism == "none":
            return None
        if admin:
            return SaslLogin(
                s.kafka_sasl_mechanism, s.kafka_admin_username, s.kafka_admin_password.get_secret_value()
            )
        return SaslLogin(s.kafka_sasl_mechanism, s.kafka_username, s.kafka_password.get_secret_value())

    @cached_property
    def log(self) -> PublicationLog:
        s = self.settings
        if s.kafka_bootstrap:
            from adapters.publication_log.kafka import KafkaLog

            return KafkaLog(s.kafka_bootstrap, default_partitions=s.kafka_partitions, sasl=self.kafka_login())
        from adapters.publication_log.embedded import EmbeddedLog

        log = EmbeddedLog(s.data_dir / "publications.sqlite3")
        log.ensure_topic(s.publications_topic, 1)
        log.ensure_topic(s.dlq_topic, 1)
        return log

    @cached_property
    def log_access(self) -> LogAccess:
        """Makes and removes the departments' own log principals (`departments add-key`)."""
        s = self.settings
        if s.kafka_bootstrap:
            from adapters.publication_log.kafka_access import KafkaAccess

            return KafkaAccess(s.kafka_bootstrap, self.kafka_login(admin=True))
        return NoLogAccess()

    @cached_property
    def platform_signer(self) -> Signer:
        """The platform's own signing key (`GONGSHI_SIGNING_KEY`, else `<data_dir>/platform-signing.key`,
        made on first use), registered in the credential store as the platform's."""
        s = self.settings
        if s.signing_key is not None:
            signer = Signer.from_base64(s.signing_key.get_secret_value())
        else:
            signer = Signer.load_or_create(s.data_dir / "platform-signing.key")
        self.credentials.register_signing_key(PLATFORM, signer.public)
        stored = self.credentials.signing_key(signer.key_id)
        if stored is not None and stored[2]:
            raise RuntimeError(
                f"the platform's signing key {signer.key_id} is revoked: make a new one (delete "
                "platform-signing.key in the data directory, or set another GONGSHI_SIGNING_KEY)"
            )
        if stored is not None and stored[0] != PLATFORM:
            raise RuntimeError(f"signing key {signer.key_id} is registered to {stored[0]}, not the platform")
        return signer

    def signed_by_platform(self, principal: str) -> Callable[[bytes], Headers]:
        """The headers the platform signs a message value with, acting for `principal`
        (`job:load`, `department:TJ-AMR/key:…`, …)."""
        signer = self.platform_signer
        return lambda value: signer.headers(value, principal)

    @cached_property
    def verifier(self) -> Verifier:
        """Checks each message's signature against the stored public keys (the ingestion worker)."""
        return Verifier(self.credentials)

    @cached_property
    def index(self) -> SearchIndex:
        s = self.settings
        if s.elasticsearch_url:
            from adapters.search_index.elasticsearch import ElasticsearchIndex

            return ElasticsearchIndex(
                s.elasticsearch_url,
                prefix=s.prefix,
                shards=s.elasticsearch_shards,
                replicas=s.elasticsearch_replicas,
            )
        from adapters.search_index.sqlite import SQLiteSearchIndex

        return SQLiteSearchIndex(s.data_dir / "search.sqlite3")

    @cached_property
    def projections(self) -> dict[str, EntityProjection]:
        """The search index's three projections (entities, records, sharing), by name."""
        return index_projections(
            self.reader, self.index, batch_size=self.settings.projection_batch_size, clock=self.clock
        )

    @property
    def projection(self) -> EntityProjection:
        """The `entities` projection (what public search reads)."""
        return self.projections["entities"]

    @property
    def followers(self) -> list[Follower]:
        """Everything that follows the notification log in `gongshi serve` and `gongshi run
        projections`, in the order a catch-up runs them."""
        return self.followers_named(FOLLOWER_NAMES)

    def followers_named(self, names: Collection[str]) -> list[Follower]:
        """The followers called `names` (`gongshi run projections --only`), in the order a
        catch-up runs them; only those are built. An unknown name raises `UnknownFollower`."""
        unknown = sorted(set(names) - set(FOLLOWER_NAMES))
        if unknown:
            raise UnknownFollower(unknown)
        built: dict[str, Callable[[], Follower]] = {
            PublicationStatusProjection.name: lambda: self.status_projection,
            CaseworkProjection.name: lambda: self.casework_projection,
            ChangeFeed.name: lambda: self.change_feed,
        }
        return [
            self.projections[name] if name in PROJECTIONS else built[name]()
            for name in FOLLOWER_NAMES
            if name in names
        ]

    def catch_up(self) -> int:
        """Run every follower until it has caught up with the log (tools, tests, benchmarks);
        returns the notifications processed."""
        return sum(follower.catch_up() for follower in self.followers)

    @cached_property
    def publicity(self) -> DailyPublicity:
        """The daily publicity job (penalty flags follow their windows)."""
        return DailyPublicity(
            self.index, self.clock, announce=self.change_feed.announce_publicity, daily=self.purge_changes
        )

    @property
    def department_names(self) -> dict[str, str]:
        return {d.code: d.name for d in self.departments.all()}

    @cached_property
    def open_data_releases(self) -> Releases:
        """The released open-data files (`/open-data/{date}/{file}`)."""
        return Releases(self.settings.open_data_root)

    @property
    def open_data_policy(self) -> ReleasePolicy:
        s = self.settings
        return ReleasePolicy(
            daily=s.open_data_daily,
            hour=s.open_data_hour,
            keep_days=s.open_data_retention_days,
            licence=s.open_data_licence,
            licence_url=s.open_data_licence_url,
        )

    @cached_property
    def open_data(self) -> DailyOpenData:
        """The daily open-data release (snapshot + delta) inside `gongshi serve`."""
        s = self.settings
        return DailyOpenData(
            self.index,
            self.department_names,
            self.clock,
            self.open_data_releases,
            hour=s.open_data_hour,
            keep_days=s.open_data_retention_days,
        )

    @cached_property
    def status_view(self) -> StatusView:
        """Where each publication stands; beside the event store (its PostgreSQL schema)."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.status_view import PostgresStatusView

            return PostgresStatusView.open(s.postgres_dsn, schema=s.postgres_schema)
        from adapters.status_view import SQLiteStatusView

        return SQLiteStatusView.open(s.data_dir / "status.sqlite3")

    @cached_property
    def status_projection(self) -> PublicationStatusProjection:
        # the USCC of an entity, read once: through an application object the index projections'
        # in-memory moves (projections.runner) never touch
        return PublicationStatusProjection(
            self.entity_reader, self.status_view, batch_size=self.settings.projection_batch_size
        )

    @cached_property
    def casework_view(self) -> CaseworkView:
        """What the deadline jobs and the departments' desks read; beside the event store."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.casework_view import PostgresCaseworkView

            return PostgresCaseworkView.open(s.postgres_dsn, schema=s.postgres_schema)
        from adapters.casework_view import SQLiteCaseworkView

        return SQLiteCaseworkView.open(s.data_dir / "casework.sqlite3")

    @cached_property
    def casework_projection(self) -> CaseworkProjection:
        """Follows the log into the casework view, with an application object of its own."""
        reader = self._application()
        self.__dict__["casework_reader"] = reader  # closed with the container
        return CaseworkProjection(reader, self.casework_view, batch_size=self.settings.projection_batch_size)

    def job(self, name: str, on_batch: Callable[[int], None] | None = None) -> Any:
        """A deadline job by name (`annual-reports`, `abnormal-removals`, `serious-escalation`)."""
        common: dict[str, Any] = {
            "view": self.casework_view,
            "publisher": self.publisher,
            "departments": self.departments,
            "calendar": self.calendar,
            "batch_size": self.settings.jobs_batch_size,
            "on_batch": on_batch,
        }
        if name == AnnualReportsJob.name:
            return AnnualReportsJob(store=self.enterprise_store, **common)
        if name == AbnormalRemovalsJob.name:
            return AbnormalRemovalsJob(**common)
        if name == SeriousEscalationJob.name:
            return SeriousEscalationJob(**common)
        raise KeyError(name)

    @cached_property
    def deadline_jobs(self) -> DailyJobs:
        """The deadline jobs, daily inside `serve` (the automatic removals only when configured)."""
        names = [AnnualReportsJob.name, SeriousEscalationJob.name]
        if self.settings.abnormal_removal_automatic:
            names.insert(0, AbnormalRemovalsJob.name)
        return DailyJobs([self.job(n) for n in names], self.clock, self.casework_projection.lag)

    def leader_lock(self, name: str) -> LeaderLock:
        """The lock that lets one process at a time run the daily runner `name`: an advisory lock
        in the event store's PostgreSQL, else a file lock in the data dir."""
        s = self.settings
        if s.postgres_dsn:
            return PostgresLeaderLock(s.postgres_dsn, name, schema=s.postgres_schema)
        return FileLeaderLock(s.data_dir / "locks", name)

    @cached_property
    def secret_key(self) -> bytes:
        """`GONGSHI_SECRET_KEY`, else the one generated into the data dir on first use."""
        s = self.settings
        if s.secret_key is not None:
            return s.secret_key.get_secret_value().encode()
        return read_or_create_secret(s.data_dir / "secret.key")

    @cached_property
    def credentials(self) -> CredentialStore:
        """Every role's keys, enterprise accounts and tokens (stored as hashes only)."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.credentials import PostgresCredentialStore

            return PostgresCredentialStore(
                s.postgres_dsn, schema=s.postgres_schema, clock=self.clock, pepper=self.secret_key
            )
        from adapters.credentials import SQLiteCredentialStore

        return SQLiteCredentialStore(
            s.data_dir / "credentials.sqlite3", clock=self.clock, pepper=self.secret_key
        )

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """Rate-limit counters: in Redis when `GONGSHI_REDIS_URL` is set (shared by every API
        process), else in this process's memory."""
        s = self.settings
        return RateLimiter(s.redis_url or "memory://", key_prefix=s.prefix)

    @cached_property
    def worker(self) -> IngestionWorker:
        s = self.settings
        return IngestionWorker(
            self.registry,
            self.log,
            s.publications_topic,
            s.dlq_topic,
            s.consumer_group,
            batch_size=s.ingest_batch_size,
            verifier=self.verifier,
        )

    @cached_property
    def parked_expiry(self) -> ParkedExpiry:
        """Parked publications past `GONGSHI_PARKED_EXPIRY_DAYS` → DLQ (`parked_expired`), with an
        application object of its own (never the worker's cache)."""
        s = self.settings
        reader = self._application()
        self.__dict__["parked_reader"] = reader  # closed with the container
        return ParkedExpiry(reader, self.log, s.dlq_topic, s.parked_expiry_days, self.clock)

    @cached_property
    def extract_ledger(self) -> ExtractLedger:
        s = self.settings
        if s.postgres_dsn:
            from adapters.extract_ledger import PostgresExtractLedger

            return PostgresExtractLedger(s.postgres_dsn, schema=s.postgres_schema)
        from adapters.extract_ledger import SQLiteExtractLedger

        return SQLiteExtractLedger(s.data_dir / "extracts.sqlite3")

    @cached_property
    def extract_seal(self) -> ExtractSeal:
        """The key and certificate the PDF extracts are sealed with (`adapters/extract_seal.py`):
        the operator's files when both are configured, else made once under the data dir."""
        s = self.settings
        key = s.extract_seal_key_file or s.data_dir / "extract-seal.key"
        cert = s.extract_seal_cert_file or s.data_dir / "extract-seal.crt"
        if s.extract_seal_key_file is not None and s.extract_seal_cert_file is not None:
            return ExtractSeal.from_files(key, cert)
        return ExtractSeal.load_or_create(key, cert)

    @cached_property
    def access_log(self) -> AccessLog:
        """Every agency call (append-only), beside the event store (its PostgreSQL schema)."""
        s = self.settings
        delay = s.confidential_read_delay_days
        if s.postgres_dsn:
            from adapters.access_log import PostgresAccessLog

            return PostgresAccessLog(s.postgres_dsn, schema=s.postgres_schema, confidential_delay_days=delay)
        from adapters.access_log import SQLiteAccessLog

        return SQLiteAccessLog(s.data_dir / "access_log.sqlite3", confidential_delay_days=delay)

    @cached_property
    def change_store(self) -> ChangeStore:
        """The change table and the agencies' watchlists, beside the event store; natural persons
        kept sealed with the events' vault."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.change_store.postgres import PostgresChangeStore

            return PostgresChangeStore(s.postgres_dsn, schema=s.postgres_schema, vault=self.personal_data)
        from adapters.change_store.sqlite import SQLiteChangeStore

        return SQLiteChangeStore(s.data_dir / "changes.sqlite3", vault=self.personal_data)

    @cached_property
    def webhooks(self) -> WebhookDispatcher:
        """Delivers watchlists' changes to their webhooks (a runner of `gongshi serve`)."""
        from adapters.webhooks import AllowList, WebhookSender

        def secret_for(watchlist_id: str) -> bytes:
            return webhook_secret(self.secret_key, watchlist_id).encode()

        sender = WebhookSender(AllowList.parse(self.settings.webhook_allowed_hosts))
        return WebhookDispatcher(self.change_store, sender, secret_for, self.clock.now)

    def purge_changes(self, today: date) -> int:
        """Drop the changes older than the retention (run daily with the publicity job)."""
        days = self.settings.change_feed_retention_days
        return self.change_store.purge(self.clock.now() - timedelta(days=days))

    @cached_property
    def feedback(self) -> FeedbackStore:
        """Measures agencies reported applying to entities (append-only), beside the event store."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.feedback import PostgresFeedbackStore

            return PostgresFeedbackStore(s.postgres_dsn, schema=s.postgres_schema)
        from adapters.feedback import SQLiteFeedbackStore

        return SQLiteFeedbackStore(s.data_dir / "feedback.sqlite3")

    @cached_property
    def audit(self) -> AuditTrail:
        """Every administrative act, append-only, beside the event store."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.audit_trail import PostgresAuditTrail

            return PostgresAuditTrail(s.postgres_dsn, schema=s.postgres_schema)
        from adapters.audit_trail import SQLiteAuditTrail

        return SQLiteAuditTrail(s.data_dir / "audit.sqlite3")

    @cached_property
    def replays(self) -> ReplayLedger:
        """Which DLQ entries were replayed (each once), beside the event store."""
        s = self.settings
        if s.postgres_dsn:
            from adapters.replays import PostgresReplays

            return PostgresReplays(s.postgres_dsn, schema=s.postgres_schema)
        from adapters.replays import SQLiteReplays

        return SQLiteReplays(s.data_dir / "replays.sqlite3")

    def record_act(self, actor: str, action: str, **arguments: Any) -> None:
        """Write one administrative act to the audit trail, at the clock's instant."""
        self.audit.record(self.clock.now(), actor, action, arguments)

    @cached_property
    def tracking(self) -> TrackingStore:
        """Positions of the followers that write outside the event store, beside it."""
        s = self.settings
        return open_tracking(data_dir=s.data_dir, postgres_dsn=s.postgres_dsn, schema=s.postgres_schema)

    @cached_property
    def change_feed(self) -> ChangeFeed:
        """The change feed (`{prefix}.changes`), with an application object of its own: its
        versioned reads stay out of the projections' aggregate cache."""
        s = self.settings
        return ChangeFeed(
            self._application(),
            self.log,
            s.changes_topic,
            self.tracking,
            self.change_store,
            partitions=s.kafka_partitions if s.kafka_bootstrap else 1,
            batch_size=s.projection_batch_size,
            now=self.clock.now,
            today=self.clock.today,
        )

    def close(self) -> None:
        names = (
            "worker",
            "log",
            "log_access",
            "index",
            "registry",
            "reader",
            "entity_reader",
            "enterprise_store",
            "casework_reader",
            "parked_reader",
            "casework_view",
            "change_feed",
            "tracking",
            "extract_ledger",
            "access_log",
            "feedback",
            "change_store",
            "status_view",
            "credentials",
            "department_store",
            "personal_data",
            "audit",
            "replays",
            "rate_limiter",
        )
        for name in names:
            obj = self.__dict__.get(name)
            if obj is not None:
                obj.close()


def build(settings: Settings | None = None) -> Container:
    return Container(settings or Settings())
