"""The one settings object. Nothing else in the system reads the environment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.rate_limits import parse_limit


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGSHI_", extra="ignore")

    data_dir: Path = Field(Path("./var"), description="where the embedded engines keep their files")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_url: str | None = Field(
        None,
        description="the platform's public base URL (e.g. https://gongshi.example.gov.cn): every "
        "absolute URL it prints (the PDF extract's verification address, redirects) starts with it, "
        "never with the request's Host header; unset = http://<http_host>:<http_port>",
    )
    today: date | None = Field(None, description="fix the date the whole system believes it is")

    kafka_bootstrap: str | None = Field(None, description="e.g. 127.0.0.1:9092; unset = embedded log")
    kafka_partitions: int = Field(
        6,
        ge=1,
        description="partitions of the topics the platform creates, for a new deployment: a live "
        "topic's count is changed only by a migration (a new topic and a replay), since adding "
        "partitions moves USCCs to other partitions and breaks their order (docs/SCALING.md)",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN", "none"] = Field(
        "SCRAM-SHA-512",
        description="how every Kafka client of the platform authenticates (SASL_PLAINTEXT); `none` = "
        "PLAINTEXT with no authentication, for a broker that has none",
    )
    kafka_username: str = Field("gongshi", description="the platform's Kafka principal")
    kafka_password: SecretStr = Field(SecretStr("gongshi"), description="its password")
    kafka_admin_username: str = Field(
        "gongshi-admin",
        description="the principal `gongshi departments add-key/revoke-key` manage departments' Kafka "
        "users and ACLs as (ALTER and DESCRIBE on the cluster); never used by serve or the workers",
    )
    kafka_admin_password: SecretStr = Field(SecretStr("gongshi-admin"), description="its password")
    postgres_dsn: str | None = Field(
        None, description="e.g. postgresql://gongshi:gongshi@127.0.0.1:5432/gongshi"
    )
    postgres_schema: str | None = None
    aggregate_cache_mb: int = Field(
        96,
        ge=0,
        description="memory, in MiB, that each application object's cache of aggregates may hold "
        "(estimated from each aggregate's number of events, bench/aggregate_memory.py); 0 = bounded "
        "by count only (20,000 aggregates)",
    )
    elasticsearch_url: str | None = Field(None, description="e.g. http://127.0.0.1:9200")
    elasticsearch_shards: int = Field(
        1,
        ge=1,
        description="primary shards of each projection's index, for a new deployment; a serving index "
        "keeps its count until `gongshi projections rebuild` makes its next generation (docs/SCALING.md)",
    )
    elasticsearch_replicas: int = Field(
        0,
        ge=0,
        description="replicas of each index: 0 on one node (a replica there has no node to go to and "
        "leaves the index yellow); 1 or more from two nodes up",
    )

    secret_key: SecretStr | None = Field(
        None,
        description="the platform's secret (keys API keys' hashes); unset = generated once into "
        "<data_dir>/secret.key. Every process and machine of one platform must share it.",
    )

    # who may call what (api/access.py): limits in the `limits` notation, per client address for
    # the public, per key for keyed callers; shared between API processes through Redis when set
    redis_url: str | None = Field(
        None,
        description="e.g. redis://127.0.0.1:6379/0: rate-limit counters shared by every API "
        "process; unset = counted in each process's memory",
    )
    rate_limit_public_api: str = Field("60/minute", description="the public API, per client address")
    rate_limit_pages: str = Field("120/minute", description="the web pages, per client address")
    rate_limit_extracts: str = Field("10/minute", description="PDF extracts issued, per client or key")
    rate_limit_keys: str = Field(
        "1200/minute", description="every keyed caller without a limit of its own, per key"
    )
    trusted_proxies: str = Field(
        "", description="comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed"
    )
    metrics_token: SecretStr | None = Field(
        None, description="a bearer token that may read /metrics only (a Prometheus scraper)"
    )

    parked_expiry_days: int = Field(
        90,
        ge=1,
        description="a publication parked for an entity not yet registered is rejected to the DLQ "
        "(reason parked_expired) once it has waited more than this many system days",
    )

    signing_key: SecretStr | None = Field(
        None,
        description="the platform's own Ed25519 signing key (base64 of the 32-byte private key), for "
        "what it publishes on someone's behalf; unset = generated once into "
        "<data_dir>/platform-signing.key. Every process of one platform may share it.",
    )
    signing_key_file: Path | None = Field(
        None,
        description="a department's signing key file (the `signing_private_key` `departments add-key` "
        "printed), for `gongshi publish`",
    )

    extract_seal_key_file: Path | None = Field(
        None,
        description="the key the PDF credit extracts are sealed with (PAdES; ECDSA P-256, PKCS#8 PEM); "
        "unset = <data_dir>/extract-seal.key, made with a self-signed certificate on first use. "
        "Every API process must share it.",
    )
    extract_seal_cert_file: Path | None = Field(
        None,
        description="the seal key's X.509 certificate (PEM), published at /api/v1/extracts/certificate; "
        "unset = <data_dir>/extract-seal.crt",
    )

    prefix: str = Field("gongshi", description="prefix of topic and index names (unique per test run)")
    consumer_group: str = "gongshi-ingest"
    ingest_batch_size: int = 500
    projection_batch_size: int = 500

    # the open-data release (snapshot + delta) written daily inside `gongshi serve` (issue 14)
    open_data_dir: Path | None = Field(
        None,
        description="where the daily releases are kept (one directory per date); unset = "
        "<data_dir>/open-data. Every API process serving /open-data must see the same directory.",
    )
    open_data_daily: bool = Field(True, description="write the release daily inside `gongshi serve`")
    open_data_hour: int = Field(
        2, ge=0, le=23, description="the hour (China time) from which the day's release is written"
    )
    open_data_retention_days: int = Field(
        30, ge=1, description="releases older than this many days are removed (never the latest)"
    )
    open_data_licence: str = Field(
        "知识共享署名 4.0 国际许可协议（CC BY 4.0）",
        description="the licence the open data is released under, as the data dictionary names it "
        "(the operator's decision: set the one the platform's owner adopts)",
    )
    open_data_licence_url: str = "https://creativecommons.org/licenses/by/4.0/deed.zh-hans"

    # the choices the publicity rules leave open (domain/publicity.py says where sources differ);
    # a change applies to documents written from then on: rebuild the projections to apply it to all
    publicity_small_fine_limit: Decimal = Field(
        Decimal("50000"),
        ge=0,
        description="SAMR Order 45 Art. 13: a fine up to this (CNY, inclusive) is a small fine, public "
        "for 3 months; set by each province (Shanghai 50,000; Hubei under 100,000)",
    )
    publicity_publicise_light: bool = Field(
        False, description="NDRC Order 36: publicise light penalties (for at most 3 months)"
    )
    publicity_market_supervision_rules: Literal["samr", "credit_platform"] = Field(
        "samr",
        description="market supervision's own penalties under SAMR Order 45 (samr) or the credit "
        "platform's NDRC rule sets like every other department (credit_platform)",
    )

    # enterprises (issue 12): working days, the deadline jobs' choices (domain/listing_rules.py
    # says where the sources differ)
    workdays_file: Path | None = Field(
        None,
        description="a JSON file of later years' holidays and make-up working days (the shape of "
        "domain/data/workdays.json), added to the shipped table; a year neither holds is counted "
        "Monday to Friday, and every deadline computed so says it is an estimate",
    )
    abnormal_removal_working_days: int = Field(
        5,
        ge=1,
        le=30,
        description="working days within which an application to leave the abnormal operations list "
        "is decided once its check passes; undecided by then, the platform removes the listing itself "
        "(SAIC Order 68 (2014) Art. 11: 5 working days; other texts say 7 days)",
    )
    abnormal_removal_automatic: bool = Field(
        True, description="remove automatically when the registration authority has not decided in time"
    )
    repair_decision_working_days: int = Field(
        15, ge=1, le=60, description="working days a department has to decide a credit repair application"
    )
    objection_decision_working_days: int = Field(
        20, ge=1, le=60, description="working days a department has to answer an objection"
    )
    jobs_batch_size: int = Field(1000, ge=1, description="entities a deadline job decides per batch")

    @field_validator("rate_limit_public_api", "rate_limit_pages", "rate_limit_extracts", "rate_limit_keys")
    @classmethod
    def _limit(cls, value: str) -> str:
        parse_limit(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"“{part.strip()}”不是有效的 IP 地址或网段（CIDR）") from None
        return value

    @property
    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """`trusted_proxies` parsed."""
        return tuple(
            ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip()
        )

    # agencies (issue 13): the access log, the change feed's table, webhooks
    confidential_read_delay_days: int = Field(
        180,
        ge=0,
        description="a read an agency marks confidential (X-Confidential: 1) is shown to the enterprise "
        "whose record it read only this many days later (administrators see it at once)",
    )
    change_feed_retention_days: int = Field(
        400,
        ge=1,
        description="how long the change table keeps each change (the agencies' feed and watchlists)",
    )
    sse_heartbeat_s: float = Field(
        15.0, gt=0, description="seconds between heartbeats on an idle server-sent-events change stream"
    )
    webhook_allowed_hosts: str = Field(
        "",
        description="comma-separated host names and CIDRs watchlist webhooks may be sent to; nothing else, "
        "and never a loopback, private or link-local address unless a CIDR here covers it",
    )

    # web hardening (api/request_limits.py, api/headers.py)
    max_query_bytes: int = Field(
        2048, ge=256, description="longest query string accepted (bytes); longer → 414 query_too_long"
    )

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("GONGSHI_PUBLIC_URL 应为 http(s)://主机[:端口][/路径]，不带查询参数")
        return value.strip().rstrip("/")

    @property
    def base_url(self) -> str:
        """The public base URL, without a trailing slash (`public_url`, or derived from the
        address the server listens on; an all-interfaces address reads as 127.0.0.1)."""
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.http_host in ("0.0.0.0", "::", "") else self.http_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.http_port}"

    @property
    def open_data_root(self) -> Path:
        return self.open_data_dir or self.data_dir / "open-data"

    @property
    def publications_topic(self) -> str:
        return f"{self.prefix}.publications"

    @property
    def dlq_topic(self) -> str:
        return f"{self.prefix}.publications.dlq"

    @property
    def changes_topic(self) -> str:
        """The change feed: one message per change to an entity's public or sharing document."""
        return f"{self.prefix}.changes"
