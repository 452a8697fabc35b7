"""Refused keys: how often each API key was refused, so that an operator sees a key refused
again and again (`gongshi audit refusals`) — a revoked key still in use, a department trying
another's routes, a client over its limit.

Beside the keys (table `refusals`): one row per key, refusal code, route and hour of the real
clock, with a count, so a key refused a thousand times a minute is one row updated, not a
thousand rows. Only keys the store knows are counted: a made-up key that merely looks like one
adds nothing (the log still names it), so nobody can fill the table by inventing keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from domain.access import Role
from domain.clock import Clock

__all__ = ["REFUSALS_DDL", "RefusalRecords", "RefusedKey"]

REFUSALS_DDL = (
    "CREATE TABLE IF NOT EXISTS {refusals} (key_id TEXT NOT NULL, code TEXT NOT NULL, "
    "route TEXT NOT NULL, hour {ts} NOT NULL, count INTEGER NOT NULL, first_at {ts} NOT NULL, "
    "last_at {ts} NOT NULL, last_address TEXT, PRIMARY KEY (key_id, code, route, hour))"
)


class _Db(Protocol):
    def execute(self, query: str, params: tuple[Any, ...] = ()) -> int: ...
    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...
    def try_insert(self, query: str, params: tuple[Any, ...] = ()) -> bool: ...
    def close(self) -> None: ...


@dataclass
class RefusedKey:
    """One key's refusals of one code since a moment, as `gongshi audit refusals` lists them."""

    key_id: str
    role: Role
    subject: str
    code: str
    count: int
    first_at: datetime
    last_at: datetime
    last_address: str | None
    routes: list[str] = field(default_factory=list)
    revoked: bool = False


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class RefusalRecords:
    """The credential store's refusal counts (mixed into `CredentialStore`)."""

    _db: _Db
    clock: Clock

    def record_refusal(self, key_id: str, code: str, route: str, address: str | None) -> bool:
        """Count one refusal of `key_id` (a key this store knows) on `route`; False when the key
        is unknown and nothing was counted."""
        now = self.clock.now()
        hour = now.replace(minute=0, second=0, microsecond=0)
        update = (
            "UPDATE {refusals} SET count = count + 1, last_at = %s, last_address = %s "
            "WHERE key_id = %s AND code = %s AND route = %s AND hour = %s"
        )
        params = (now, address, key_id, code, route, hour)
        if self._db.execute(update, params) == 1:
            return True
        inserted = self._db.try_insert(
            "INSERT INTO {refusals} (key_id, code, route, hour, count, first_at, last_at, last_address) "
            "SELECT %s, %s, %s, %s, 1, %s, %s, %s WHERE EXISTS "
            "(SELECT 1 FROM {api_keys} WHERE key_id = %s)",
            (key_id, code, route, hour, now, now, address, key_id),
        )
        if inserted:  # a row is written only when the key exists (a rowcount of 0 otherwise)
            return bool(self._db.rows("SELECT 1 FROM {api_keys} WHERE key_id = %s", (key_id,)))
        return self._db.execute(update, params) == 1  # another process inserted it first

    def refused_keys(self, since: datetime, *, at_least: int = 1) -> list[RefusedKey]:
        """Keys refused at least `at_least` times (per code) in the hours from `since`, most
        refused first."""
        rows = self._db.rows(
            "SELECT r.key_id, k.role, k.subject, k.revoked_at, r.code, r.route, r.count, r.first_at, "
            "r.last_at, r.last_address FROM {refusals} r JOIN {api_keys} k ON k.key_id = r.key_id "
            "WHERE r.hour >= %s ORDER BY r.last_at",
            (since.replace(minute=0, second=0, microsecond=0),),
        )
        found: dict[tuple[str, str], RefusedKey] = {}
        for key_id, role, subject, revoked_at, code, route, count, first_at, last_at, address in rows:
            seen = found.get((key_id, code))
            if seen is None:
                found[(key_id, code)] = RefusedKey(
                    key_id=str(key_id),
                    role=Role(role),
                    subject=str(subject),
                    code=str(code),
                    count=int(count),
                    first_at=_instant(first_at),
                    last_at=_instant(last_at),
                    last_address=address,
                    routes=[str(route)],
                    revoked=revoked_at is not None,
                )
                continue
            seen.count += int(count)
            seen.first_at = min(seen.first_at, _instant(first_at))
            if _instant(last_at) >= seen.last_at:
                seen.last_at, seen.last_address = _instant(last_at), address
            if route not in seen.routes:
                seen.routes.append(str(route))
        return _most_refused(k for k in found.values() if k.count >= at_least)


def _most_refused(keys: Iterable[RefusedKey]) -> list[RefusedKey]:
    return sorted(keys, key=lambda k: (-k.count, k.key_id, k.code))
