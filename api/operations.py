"""Operators' acts, one function each, shared by the command line (`gongshi …`, who: `cli:` and
the OS user) and the admin API (`/api/v1/admin/…`, who: the admin key's principal,
`admin:NAME/key:ID`): each checks its arguments, acts, and records the same audit entry, so the
trail reads the same whichever way an operator chose.

A refusal is `ActRefused` (a stable code, a Chinese message, the argument at fault, the HTTP
status it answers with); an act done that the trail could not take raises `AuditUnavailable`
after the act (the act stands, unrecorded: the caller must say so). Engines' failures keep their
own errors (`LogUnavailable`, `ReplaysUnavailable`) for the caller to word.

What stays on the command line only: issuing admin keys and department credentials (a Kafka
login and a signing key's private half), rebuilds, backup and restore, erasure and migration of
persons (long-running, or files on the host) — see docs/OPERATIONS.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from adapters.credentials import key_id_of
from api.dead_letters import (
    ReplayResult,
    all_dead_letters,
    find_dead_letter,
    purge_before,
    replay,
)
from domain.access import Role, parse_scopes
from domain.departments import DEPARTMENT_TYPE_LABELS, Department, DepartmentType
from domain.kinds import PUBLICATION_KINDS
from infra.bootstrap import Container

__all__ = [
    "DEADLINE_JOBS",
    "JOBS",
    "ActRefused",
    "DepartmentChanged",
    "JobRun",
    "Operations",
    "agency_scopes",
    "kafka_username",
]

DEPARTMENT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
ISSUABLE = (Role.AGENCY, Role.PUBLIC)  # over HTTP; admin keys and department credentials: CLI only


class ActRefused(Exception):
    """An act not done: `code` (stable), `message` (Chinese), `param` (the argument at fault,
    as the API names it), `status` (the HTTP answer: 404 unknown, 409 conflict, 422 invalid)."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


@dataclass(frozen=True)
class DepartmentChanged:
    code: str
    action: str
    effective_from: date
    change: int
    kinds: tuple[str, ...] = ()


def _kinds(raw: str | Sequence[str], department_type: DepartmentType) -> list[str]:
    given = raw.split(",") if isinstance(raw, str) else list(raw)
    kinds = sorted({k.strip() for k in given if k.strip()})
    if not kinds:
        raise ActRefused(422, "kinds_required", "至少给出一个公示类型", "kinds")
    unknown = [k for k in kinds if PUBLICATION_KINDS.get(k) is None]
    if unknown:
        raise ActRefused(422, "unknown_kind", f"未知的公示类型：{', '.join(unknown)}", "kinds")
    outside = [k for k in kinds if k not in PUBLICATION_KINDS.allowed(department_type)]
    if outside:
        label = DEPARTMENT_TYPE_LABELS[department_type]
        raise ActRefused(422, "kind_not_allowed", f"{label}不能公示：{', '.join(outside)}", "kinds")
    return kinds


def agency_scopes(raw: str | Sequence[str]) -> tuple[str, ...]:
    """Scopes as given (comma-separated or a list), checked."""
    text = raw if isinstance(raw, str) else ",".join(raw)
    try:
        return parse_scopes(text)
    except ValueError as err:
        raise ActRefused(422, "invalid_scopes", str(err), "scopes") from None


def kafka_username(department: str, key_id: str) -> str:
    """The Kafka principal of one department key (one per key, so two live during a rotation)."""
    return f"dept-{department}-{key_id}"


PARKED_EXPIRY = "parked-expiry"
PUBLICITY = "publicity"
DEADLINE_JOBS = ("annual-reports", "abnormal-removals", "serious-escalation")
JOBS = (PARKED_EXPIRY, PUBLICITY, *DEADLINE_JOBS)


@dataclass(frozen=True)
class JobRun:
    """What a job run by hand did: its name, the date it ran for, and its figures (as audited)."""

    job: str
    as_of: date
    figures: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


class Operations:
    """The acts on one system (`infra.bootstrap.Container`): the command line builds one per
    command, the API one per app (`OperationsDep`). `actor` names who acts, for the trail."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def _record_change(
        self, actor: str, code: str, action: str, effective_from: date, fields: dict[str, Any]
    ) -> int:
        change = self.container.department_store.record(
            code, action, effective_from, self.container.clock.now(), actor, fields
        )
        self.container.departments.refresh()  # this process sees it at once; others at their next read
        self.container.record_act(
            actor,
            f"departments.{action}",
            department=code,
            effective_from=effective_from.isoformat(),
            change=change.number,
            fields=fields,
        )
        return change.number

    def add_department(
        self,
        actor: str,
        *,
        code: str,
        name: str,
        department_type: DepartmentType,
        kinds: str | Sequence[str],
        short_name: str | None = None,
        abbreviation: str = "",
        effective_from: date | None = None,
    ) -> DepartmentChanged:
        """Connect a new department with its mandate, in force from `effective_from` (default: the
        system date)."""
        if not DEPARTMENT_CODE.match(code):
            raise ActRefused(
                422, "invalid_department_code", f"部门代码“{code}”应为 2–40 个大写字母、数字、- 或 _", "code"
            )
        if not name.strip():
            raise ActRefused(422, "name_required", "须给出部门名称", "name")
        granted = _kinds(kinds, department_type)
        self.container.departments.refresh()
        if self.container.departments.known(code):
            raise ActRefused(409, "department_exists", f"部门“{code}”已存在（修改职权用 set-kinds）", "code")
        day = effective_from or self.container.clock.today()
        department = Department(
            code=code,
            name=name.strip(),
            short_name=(short_name or name).strip(),
            abbreviation=abbreviation.strip(),
            type=department_type,
            kinds=frozenset(granted),
            licence_names=(),
        )
        number = self._record_change(actor, code, "added", day, department.as_dict())
        return DepartmentChanged(code, "added", day, number, tuple(granted))

    def set_department_kinds(
        self,
        actor: str,
        code: str,
        kinds: str | Sequence[str],
        effective_from: date | None = None,
    ) -> DepartmentChanged:
        """A department's whole new mandate from a date on: publications arriving from then are
        checked against it, earlier ones were checked against the old."""
        self.container.departments.refresh()
        found = self.container.departments.latest(code)
        if found is None:
            raise ActRefused(404, "department_not_found", f"未登记的部门“{code}”", "code")
        granted = _kinds(kinds, found.type)
        day = effective_from or self.container.clock.today()
        number = self._record_change(actor, code, "kinds_set", day, {"kinds": granted})
        return DepartmentChanged(code, "kinds_set", day, number, tuple(granted))

    def disable_department(
        self, actor: str, code: str, effective_from: date | None = None
    ) -> DepartmentChanged:
        """Stop a department publishing from a date on (what it published stays; its keys are
        revoked separately)."""
        self.container.departments.refresh()
        if not self.container.departments.known(code):
            raise ActRefused(404, "department_not_found", f"未登记的部门“{code}”", "code")
        day = effective_from or self.container.clock.today()
        number = self._record_change(actor, code, "disabled", day, {})
        return DepartmentChanged(code, "disabled", day, number)

    def issue_key(
        self,
        actor: str,
        role: Role,
        subject: str,
        *,
        name: str | None,
        scopes: tuple[str, ...] = (),
        limit: str | None = None,
    ) -> str:
        """A new key (shown once to the caller; only its hash is kept) and its audit entry."""
        key = self.container.credentials.add(role, subject, name=name, scopes=scopes, rate_limit=limit)
        self.container.record_act(
            actor,
            "keys.created",
            role=role.value,
            subject=subject,
            key_id=key_id_of(key),
            scopes=list(scopes),
            limit=limit,
        )
        return key

    def revoke_api_key(self, actor: str, key_id: str, role: Role) -> bool:
        """Revoke an agency, admin or public key (refused from the next request on); False (and no
        audit entry) when there is no such active key."""
        revoked = self.container.credentials.revoke(key_id, role)
        if revoked:
            self.container.record_act(actor, "keys.revoked", role=role.value, key_id=key_id)
        return revoked

    def revoke_key(self, actor: str, key_id: str) -> tuple[str, list[str]]:
        """Revoke a key of any role by its id (a department key with what was issued with it; a
        signing key `sk_…` alone): (its role, what was revoked — empty: no such active key)."""
        if key_id.startswith("sk_"):
            return "signing", self.revoke_department_key(actor, key_id)
        issued = self.container.credentials.keys(None)
        found = next((k for k in issued if k.key_id == key_id and k.revoked_at is None), None)
        if found is None:
            return "", []
        if found.role == Role.DEPARTMENT:
            return found.role.value, self.revoke_department_key(actor, key_id)
        revoked = self.revoke_api_key(actor, key_id, found.role)
        return found.role.value, [f"API key {key_id}"] if revoked else []

    def revoke_department_key(self, actor: str, key_id: str) -> list[str]:
        """Revoke a department key and what was issued with it (its signing key, its Kafka user), or
        a signing key (`sk_…`) alone; what was revoked (empty: nothing active by that id). What was
        revoked is recorded also when the Kafka user could not be removed (`LogUnavailable` then)."""
        done: list[str] = []
        try:
            self._revoke_department_key(key_id, done)
        finally:
            if done:
                self.container.record_act(
                    actor,
                    "keys.revoked",
                    role="signing" if key_id.startswith("sk_") else Role.DEPARTMENT.value,
                    key_id=key_id,
                    revoked=done,
                )
        return done

    def _revoke_department_key(self, key_id: str, done: list[str]) -> None:
        credentials = self.container.credentials
        if key_id.startswith("sk_"):
            if credentials.revoke_signing_key(key_id):
                done.append(f"signing key {key_id}")
            return
        issued = next((k for k in credentials.list_keys() if k.key_id == key_id), None)
        if issued is None:
            return
        if credentials.revoke(key_id, Role.DEPARTMENT):
            done.append(f"API key {key_id}")
        if issued.name and issued.name.startswith("sk_") and credentials.revoke_signing_key(issued.name):
            done.append(f"signing key {issued.name}")
        user = kafka_username(issued.department, key_id)
        if self.container.log_access.revoke_writer(user):  # LogUnavailable: the caller says so
            done.append(f"Kafka user {user}")

    def replay_dead_letters(
        self,
        actor: str,
        ident: str | None = None,
        *,
        reason: str | None = None,
        department: str | None = None,
    ) -> list[ReplayResult]:
        """Put rejected publications back on the publication log: one entry (`ident`, PARTITION@OFFSET
        or a publication id), or every entry with `reason` [and `department`]; each entry once."""
        if (ident is None) == (reason is None):
            raise ActRefused(422, "replay_selection", "请给出一个条目编号，或以 reason 选择条目（二者择一）")
        if ident is not None and department is not None:
            raise ActRefused(422, "replay_selection", "department 只与 reason 一起使用", "department")
        s = self.container.settings
        if ident is not None:
            found = find_dead_letter(self.container.log, s.dlq_topic, ident)
            if found is None:
                raise ActRefused(404, "dead_letter_not_found", f"死信队列中没有 {ident}", "id")
            letters = [found]
        else:
            letters = all_dead_letters(self.container.log, s.dlq_topic, reason=reason, department=department)
        results = replay(
            self.container.log,
            s.publications_topic,
            letters,
            self.container.replays,
            actor=actor,
            now=self.container.clock.now(),
            platform_sign=lambda value, principal: self.container.signed_by_platform(principal)(value),
        )
        sent = [r.letter for r in results if r.replayed]
        if sent:
            self.container.record_act(
                actor,
                "dlq.replayed",
                entries=[d.id for d in sent],
                publication_ids=[d.publication_id for d in sent],
                reason=reason,
                department=department,
            )
        return results

    def purge_dead_letters(self, actor: str, older_than: int) -> tuple[int, date]:
        """Delete the DLQ's entries written more than `older_than` days before the system date;
        (how many, the cutoff date)."""
        if older_than < 1:
            raise ActRefused(422, "invalid_days", "天数至少为 1", "older_than_days")
        cutoff = self.container.clock.today() - timedelta(days=older_than)
        deleted = purge_before(
            self.container.log, self.container.settings.dlq_topic, cutoff, self.container.clock.date_of
        )
        self.container.record_act(
            actor, "dlq.purged", older_than_days=older_than, before=cutoff.isoformat(), deleted=deleted
        )
        return deleted, cutoff

    def run_job(
        self,
        actor: str,
        name: str,
        as_of: date | None = None,
        *,
        on_batch: Callable[[int], None] | None = None,
        on_caught_up: Callable[[int, int], None] | None = None,
    ) -> JobRun:
        """Run one of `JOBS` now, as the daily run would (the parked expiry always for the system
        date; a deadline job never for a date after it). `LogUnavailable`: the DLQ could not be
        written, nothing expired."""
        if name not in JOBS:
            raise ActRefused(
                404, "job_not_found", f"没有名为“{name}”的作业（可选：{'、'.join(JOBS)}）", "name"
            )
        today = self.container.clock.today()
        if name == PARKED_EXPIRY:
            if as_of is not None and as_of != today:
                raise ActRefused(422, "as_of_not_allowed", "暂存过期作业只按系统日期运行", "as_of")
            job = self.container.parked_expiry
            expired = job.run(today)
            ids = [o.publication_id for o in expired]
            self.container.record_act(
                actor, "jobs.run", job=job.name, as_of=today.isoformat(), days=job.days, expired=ids
            )
            summary = f"parked before {job.cutoff(today).isoformat()}: {len(expired)} rejected to the DLQ"
            return JobRun(job.name, today, {"expired": len(ids)}, summary)
        day = as_of or today
        if name == PUBLICITY:
            from projections.publicity import run_publicity

            changed = run_publicity(self.container.index, day)
            self.container.record_act(
                actor, "jobs.run", job=PUBLICITY, as_of=day.isoformat(), changed=changed
            )
            return JobRun(
                PUBLICITY, day, {"changed": changed}, f"publicity as of {day}: {changed} entities changed"
            )
        if day > today:
            raise ActRefused(
                422, "as_of_in_future", f"作业日期 {day} 晚于系统日期 {today}：作业不能提前作出决定", "as_of"
            )
        caught_up = self.container.casework_projection.catch_up()
        if on_caught_up is not None:
            on_caught_up(caught_up, self.container.casework_projection.lag())
        result = self.container.job(name, on_batch=on_batch).run(day)
        self.container.record_act(
            actor, "jobs.run", job=name, as_of=day.isoformat(), published=result.published
        )
        return JobRun(name, day, {"published": result.published}, result.summary())
