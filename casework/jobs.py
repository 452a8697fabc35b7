"""The deadline rules run as jobs: `gongshi jobs run NAME --as-of DATE`, and daily inside `serve`.

- `annual-reports` — from 1 July of Y+1, every active entity that owes the report for Y and has
  not filed it is put on the abnormal operations list, reason 未按规定报送年度报告, by its
  registration authority (the department that registered it), principal `job:annual-reports`.
  It runs daily from 1 July and lists on the first run; the legal bound is 10 working days after
  30 June (`ANNUAL_REPORT_LISTING`), and a run past it says so.
- `abnormal-removals` — an application to leave the list after a late report, whose check passes
  (the missing report is now filed) and that its department has not decided within
  `GONGSHI_ABNORMAL_REMOVAL_WORKING_DAYS`, is granted by the platform (`abnormal.removed` naming
  the application), when `GONGSHI_ABNORMAL_REMOVAL_AUTOMATIC` is on.
- `serious-escalation` — a listing three years old goes to the serious list, after the warning
  notice published in the 60 days before (`abnormal.warned`); see `domain.listing_rules`.

Every job reads the casework view in pages keyed by USCC, publishes one batch of envelopes at a
time (signed by the platform for the job) and records where it got to, so a crash resumes where
it stopped. Publication ids are fixed by what they decide (the year and USCC, the listing, the
application), so a second run — or the same batch published twice — changes nothing: the worker
applies a publication id once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from adapters.casework_view import CaseworkView
from adapters.enterprise_store import EnterpriseStore
from casework.publishing import Publisher, envelope
from domain.departments import DepartmentRegistry
from domain.listing_rules import ANNUAL_REPORT_LISTING, escalation_rule_for
from domain.publicity import add_months
from domain.workdays import WorkingDays

log = logging.getLogger(__name__)

__all__ = ["AbnormalRemovalsJob", "AnnualReportsJob", "DailyJobs", "JobResult", "SeriousEscalationJob"]

ACTIVE = "存续"


@dataclass
class JobResult:
    job: str
    as_of: date
    published: int = 0
    examined: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.job} as of {self.as_of}: {self.published} published, {self.examined} examined"
        return text + ("; " + "; ".join(self.notes) if self.notes else "")


def _short(text: str) -> str:
    """A publication-id-safe digest of a decision number (which may hold Chinese and brackets)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _Job:
    name = ""
    principal = ""

    def __init__(
        self,
        *,
        view: CaseworkView,
        publisher: Publisher,
        departments: DepartmentRegistry,
        calendar: WorkingDays,
        batch_size: int = 1000,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.view = view
        self.publisher = publisher
        self.departments = departments
        self.calendar = calendar
        self.batch_size = batch_size
        self.on_batch = on_batch

    def abbreviation(self, department: str) -> str:
        found = self.departments.get(department)
        return found.abbreviation if found and found.abbreviation else department

    def publish(self, envelopes: list[dict[str, Any]]) -> int:
        count = self.publisher.publish(envelopes, self.principal) if envelopes else 0
        if self.on_batch is not None:
            self.on_batch(count)
        return count


class AnnualReportsJob(_Job):
    name = "annual-reports"
    principal = "job:annual-reports"

    def __init__(self, *, store: EnterpriseStore, **kw: Any) -> None:
        super().__init__(**kw)
        self.store = store

    def run(self, as_of: date) -> JobResult:
        result = JobResult(self.name, as_of)
        year = as_of.year - 1
        closes = date(as_of.year, 6, 30)
        if as_of <= closes:
            result.notes.append(f"{year} 年度报告报送期至 {closes}，尚未到列入时间")
            return result
        deadline = self.calendar.deadline(closes, ANNUAL_REPORT_LISTING.working_days)
        if deadline.warning:
            result.notes.append(deadline.warning)
        if as_of > deadline.on:
            result.notes.append(
                f"列入期限为 {deadline.on}（{ANNUAL_REPORT_LISTING.name}：{closes} 后 "
                f"{ANNUAL_REPORT_LISTING.working_days} 个工作日内），本次运行已晚于期限"
            )
        run_key = f"{year}@{as_of.isoformat()}"
        after, published, done = self.view.job_progress(self.name, run_key)
        if done:
            result.notes.append("今日已运行完毕")
            return result
        result.published = published
        while True:
            page = self.view.non_filers(year, after, self.batch_size, status=ACTIVE)
            if not page:
                break
            result.examined += len(page)
            on_the_way = self.store.filers(
                [u for u, *_ in page], "annual_report.submitted", str(year), closes
            )
            envelopes = [
                self._listing(uscc, department, authority, year, as_of)
                for uscc, _, department, authority in page
                if uscc not in on_the_way
            ]
            result.published += self.publish(envelopes)
            after = page[-1][0]
            self.view.save_job_progress(self.name, run_key, after, result.published, False)
        self.view.save_job_progress(self.name, run_key, "", result.published, True)
        log.info(result.summary())
        return result

    def _listing(
        self, uscc: str, department: str, authority: str | None, year: int, as_of: date
    ) -> dict[str, Any]:
        rule = ANNUAL_REPORT_LISTING
        payload: dict[str, Any] = {
            "decision_no": f"{self.abbreviation(department)}经异〔{as_of.year}〕年报{year}-{uscc}",
            "reason": rule.reason,
            "basis": rule.basis,
            "cause": "annual_report",
            "year": year,
        }
        if authority:
            payload["authority"] = authority
        return envelope(
            kind="abnormal.listed",
            uscc=uscc,
            department=department,
            payload=payload,
            occurred_on=as_of,
            publication_id=f"JOB-AR{year}-{uscc}",
        )


class AbnormalRemovalsJob(_Job):
    name = "abnormal-removals"
    principal = "job:abnormal-removals"

    def run(self, as_of: date) -> JobResult:
        result = JobResult(self.name, as_of)
        after = ""
        while True:
            page = self.view.applications(
                kinds=["abnormal_removal"],
                status="pending",
                due_until=as_of,
                after=after,
                limit=self.batch_size,
            )
            if not page:
                break
            result.examined += len(page)
            envelopes = []
            for application in page:
                listing = self.view.listing(application["uscc"], application["record_no"])
                if (
                    listing is None
                    or listing["removed_on"] is not None
                    or listing["cause"] != "annual_report"
                ):
                    continue  # not this job's to decide: the department decides
                if listing["year"] not in self.view.reports_filed(application["uscc"]):
                    continue  # the check does not pass: the report is still missing
                envelopes.append(
                    envelope(
                        kind="abnormal.removed",
                        uscc=application["uscc"],
                        department=application["department"],
                        payload={
                            "decision_no": application["record_no"],
                            "reason": f"已补报 {listing['year']} 年度报告并公示，"
                            "登记机关未在期限内作出决定，依申请移出",
                            "application_no": application["number"],
                        },
                        occurred_on=as_of,
                        publication_id=f"JOB-RM-{application['number']}",
                    )
                )
            result.published += self.publish(envelopes)
            after = page[-1]["number"]
        log.info(result.summary())
        return result


class SeriousEscalationJob(_Job):
    name = "serious-escalation"
    principal = "job:serious-escalation"

    def run(self, as_of: date) -> JobResult:
        result = JobResult(self.name, as_of)
        # every listing whose warning period may have begun: listed 3 years less 60 days ago, or earlier
        until = add_months(as_of + timedelta(days=61), -36)
        after = ("", "")
        while True:
            page = self.view.open_abnormal(until, after, self.batch_size)
            if not page:
                break
            result.examined += len(page)
            envelopes = [e for row in page if row["status"] == ACTIVE and (e := self._decide(row, as_of))]
            result.published += self.publish(envelopes)
            after = (page[-1]["uscc"], page[-1]["decision_no"])
        log.info(result.summary())
        return result

    def _decide(self, row: dict[str, Any], as_of: date) -> dict[str, Any] | None:
        listed_on = date.fromisoformat(row["listed_on"])
        rule = escalation_rule_for(listed_on)
        department = row["department"] or "TJ-AMR"
        key = _short(f"{row['uscc']}|{row['decision_no']}")
        if row["warned_on"] is None:
            if as_of < rule.warning_from(listed_on):
                return None
            escalation_on = rule.escalation_on(listed_on, as_of)
            return envelope(
                kind="abnormal.warned",
                uscc=row["uscc"],
                department=department,
                payload={
                    "decision_no": row["decision_no"],
                    "escalation_on": escalation_on.isoformat(),
                    "content": (
                        f"{row['name']}于 {listed_on} 被列入经营异常名录（{row['decision_no']}），将于 "
                        f"{rule.anniversary(listed_on)} 届满3年。届满3年仍未履行相关义务的，"
                        f"将自 {escalation_on} 起列入严重违法失信名单（{rule.basis}）。"
                        "请尽快履行公示义务并申请移出。"
                    ),
                },
                occurred_on=as_of,
                publication_id=f"JOB-WARN-{key}",
            )
        escalation_on = date.fromisoformat(row["escalation_on"])
        if as_of < escalation_on:
            return None
        serious_no = f"{self.abbreviation(department)}严违〔{escalation_on.year}〕异常届满-{key[:8]}"
        if self.view.serious_listed(row["uscc"], serious_no):
            return None
        return envelope(
            kind="serious.listed",
            uscc=row["uscc"],
            department=department,
            payload={
                "decision_no": serious_no,
                "reason": f"{rule.reason}（经营异常名录列入决定 {row['decision_no']}）",
                "basis": rule.basis,
            },
            occurred_on=as_of,
            publication_id=f"JOB-SV-{key}",
        )


class DailyJobs:
    """The deadline jobs inside `gongshi serve`: once per system date, when the casework view has
    caught up with the event store (a view that lags could take a filer for a non-filer)."""

    name = "deadline-jobs"

    def __init__(
        self, jobs: list[Any], clock: Any, view_lag: Callable[[], int], check_every_s: float = 60.0
    ) -> None:
        self.jobs = jobs
        self.clock = clock
        self.view_lag = view_lag
        self.check_every_s = check_every_s
        self.last_run: date | None = None
        self._stop = threading.Event()

    def run_once(self) -> list[JobResult] | None:
        """Run every job for today if not done yet and the view is current; None otherwise."""
        today = self.clock.today()
        if today == self.last_run or self.view_lag() > 0:
            return None
        results = [job.run(today) for job in self.jobs]
        self.last_run = today
        return results

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the view or the log may be down: try again at the next check
                log.exception("deadline jobs failed; retrying")
            self._stop.wait(self.check_every_s)

    def stop(self) -> None:
        self._stop.set()
