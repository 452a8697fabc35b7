"""Backup and restore of the platform's own data (`gongshi backup --out DIR`, `gongshi restore DIR`).

What is backed up: the event store and every table the platform keeps beside it — credentials and
the refusals' counts, the extract ledger, the enterprise store, the status and casework views with
their positions, the change feed's position, the audit trail, the replay ledger, the department
registry's history — and, when the log is embedded, the publication log with its DLQ, plus the
platform's secret and signing key files in the data directory (the backup holds secrets: keep it
as such). The search index is not backed up: `restore` rebuilds it from the restored store.

- PostgreSQL: one `pg_dump --format=custom --schema=<the platform's schema>` (one snapshot, so
  every table agrees with the event store), restored with `pg_restore` onto a database where that
  schema does not exist yet or holds no table.
- SQLite: each file through SQLite's online backup API (consistent per file while the platform
  runs); the files that follow the event store are copied first and the event store last, so no
  follower's position is ahead of the restored store (they catch up after the restore).

`manifest.json` names every file with its size and SHA-256, checked before anything is restored.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.settings import Settings

__all__ = ["BACKUP_FORMAT", "BackupError", "Manifest", "backup", "restore_files"]

BACKUP_FORMAT = "gongshi.backup/1"
PG_DUMP = "platform.pgdump"
#: Rebuilt, never backed up.
NOT_BACKED_UP = frozenset({"search.sqlite3"})
#: Backed up last (the followers' positions must not be ahead of it).
EVENT_STORE = "events.sqlite3"
KEY_FILES = ("secret.key", "platform-signing.key")


class BackupError(Exception):
    """A backup or restore that cannot be done; `message` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Manifest:
    created_at: str
    engine: str  # "sqlite" or "postgresql"
    files: dict[str, dict[str, Any]]  # name → {"bytes", "sha256"}
    postgres_schema: str | None
    notifications: int

    def as_json(self) -> str:
        return json.dumps({"format": BACKUP_FORMAT, **self.__dict__}, ensure_ascii=False, indent=2)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            raw = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise BackupError(f"{folder} 不是平台备份（manifest.json 无法读取：{err}）") from None
        if raw.get("format") != BACKUP_FORMAT:
            raise BackupError(f"{folder} 的备份格式 {raw.get('format')!r} 无法识别")
        raw.pop("format")
        return cls(**raw)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_files(data_dir: Path) -> list[Path]:
    found = sorted(p for p in data_dir.glob("*.sqlite3") if p.name not in NOT_BACKED_UP)
    return [p for p in found if p.name != EVENT_STORE] + [p for p in found if p.name == EVENT_STORE]


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_env(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """The connection arguments for pg_dump/pg_restore (the DSN; its password through the
    environment of the child process only, never on the command line)."""
    from adapters.event_store import postgres_env

    assert settings.postgres_dsn is not None
    env = postgres_env(settings.postgres_dsn, schema=settings.postgres_schema)
    args = [
        "--host",
        env["POSTGRES_HOST"],
        "--port",
        env["POSTGRES_PORT"],
        "--username",
        env["POSTGRES_USER"],
    ]
    child = {
        "PATH": os.defpath + os.pathsep + "/usr/bin:/usr/lib/postgresql/15/bin",
        "PGPASSWORD": env["POSTGRES_PASSWORD"],
    }
    return [*args, "--dbname", env["POSTGRES_DBNAME"]], child


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except OSError as err:
        raise BackupError(f"{what}失败：无法运行 {command[0]}（{err}）") from None
    if done.returncode != 0:
        raise BackupError(
            f"{what}失败（{command[0]} 退出码 {done.returncode}）：{done.stderr.strip()[-800:]}"
        )


def backup(settings: Settings, out: Path, *, notifications: int, now: datetime) -> Manifest:
    """Write a backup of the platform's data into the new or empty folder `out`."""
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"备份目录 {out} 不是空目录")
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    files: dict[str, dict[str, Any]] = {}
    for source in _sqlite_files(settings.data_dir):
        _copy_sqlite(source, out / source.name)
    for name in KEY_FILES:
        if (settings.data_dir / name).exists():
            shutil.copyfile(settings.data_dir / name, out / name)
            os.chmod(out / name, 0o600)
    schema = None
    if settings.postgres_dsn:
        schema = settings.postgres_schema or "public"
        args, env = _pg_env(settings)
        command = [
            "pg_dump",
            *args,
            "--format=custom",
            "--no-owner",
            "--schema",
            schema,
            "--file",
            str(out / PG_DUMP),
        ]
        _run(command, env, "PostgreSQL 备份")
    for path in sorted(out.iterdir()):
        if path.name != "manifest.json":
            files[path.name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    manifest = Manifest(
        created_at=now.isoformat(),
        engine="postgresql" if settings.postgres_dsn else "sqlite",
        files=files,
        postgres_schema=schema,
        notifications=notifications,
    )
    (out / "manifest.json").write_text(manifest.as_json() + "\n", encoding="utf-8")
    return manifest


def _schema_empty(settings: Settings, schema: str) -> bool:
    from adapters.pg import tables_in_schema

    assert settings.postgres_dsn is not None
    return tables_in_schema(settings.postgres_dsn, schema) == 0


def _drop_empty_schema(settings: Settings, schema: str) -> None:
    """The dump creates the schema: an empty one made beforehand is dropped (never with what it
    holds: DROP SCHEMA without CASCADE fails on anything in it)."""
    from adapters.pg import drop_empty_schema

    if schema == "public":
        return
    assert settings.postgres_dsn is not None
    try:
        drop_empty_schema(settings.postgres_dsn, schema)
    except Exception as err:  # psycopg's error, kept out of infra
        raise BackupError(f"PostgreSQL 模式 {schema} 不是空的：{err}") from None


def restore_files(settings: Settings, folder: Path) -> Manifest:
    """Put a backup back onto an empty data dir (and an empty schema): checked first, nothing
    overwritten. The projections are rebuilt afterwards by the caller."""
    manifest = Manifest.read(folder)
    for name, expected in manifest.files.items():
        path = folder / name
        if not path.exists() or _sha256(path) != expected["sha256"]:
            raise BackupError(f"备份文件 {name} 缺失或已损坏（SHA-256 不符）")
    if (manifest.engine == "postgresql") != bool(settings.postgres_dsn):
        raise BackupError(
            f"该备份来自{'PostgreSQL' if manifest.engine == 'postgresql' else '内嵌 SQLite'}，"
            "与当前配置的事件存储不一致"
        )
    data_dir = settings.data_dir
    taken = [name for name in manifest.files if name != PG_DUMP and (data_dir / name).exists()]
    if taken:
        raise BackupError(
            f"数据目录 {data_dir} 不是空的（已有 {', '.join(sorted(taken))}）：恢复只写入空目录"
        )
    if manifest.engine == "postgresql":
        schema = settings.postgres_schema or "public"
        if schema != manifest.postgres_schema:
            raise BackupError(f"该备份属于模式 {manifest.postgres_schema}，当前配置的是 {schema}")
        if not _schema_empty(settings, schema):
            raise BackupError(f"PostgreSQL 模式 {schema} 中已有数据表：恢复只写入空库")
    data_dir.mkdir(parents=True, exist_ok=True)
    if manifest.engine == "postgresql":
        _drop_empty_schema(settings, manifest.postgres_schema or "public")
        args, env = _pg_env(settings)
        command = ["pg_restore", *args, "--no-owner", "--exit-on-error", str(folder / PG_DUMP)]
        _run(command, env, "PostgreSQL 恢复")
    for name in manifest.files:
        if name == PG_DUMP:
            continue
        if name.endswith(".sqlite3"):
            _copy_sqlite(folder / name, data_dir / name)
        else:
            shutil.copyfile(folder / name, data_dir / name)
            os.chmod(data_dir / name, 0o600)
    return manifest
