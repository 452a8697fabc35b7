"""`gongshi match FILE.csv --out FILE.csv --purpose … --agency CODE`: batch matching from the
command line, with the matcher the API uses (`api.matching.Matcher`), rows read and written as
they are decided (a progress bar counts them), and the run written to the access log like an
agency's call (route `cli:match`), since it reads the register as an agency would."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated

import typer

from api.cli.console import console, open_container, progress
from api.matching import CsvHeaderError, Matcher, csv_line, csv_rows, result_csv_header, result_csv_row
from domain.agency_access import AccessEntry, purpose_problem


def _count_rows(path: Path, encoding: str) -> int:
    with path.open(encoding=encoding, errors="replace", newline="") as file:
        return max(0, sum(1 for _ in csv.reader(file)) - 1)


def _encoding(path: Path) -> str:
    head = path.open("rb").read(65536)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not merely a character cut at the end of the sample
            return "gb18030"
    return "utf-8-sig"


def match(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="CSV：名称/统一社会信用代码/注册号/法定代表人/地址"),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="results CSV (UTF-8 with BOM)")],
    purpose: Annotated[str, typer.Option(help="查询目的（记入访问日志，至少 4 个字）")],
    agency: Annotated[str, typer.Option(help="the office the list belongs to (its agency code)")],
    officer: Annotated[str | None, typer.Option(help="经办人")] = None,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="rows per candidate lookup")] = 200,
) -> None:
    """Match a CSV list against the register; write each row's decision and best candidates."""
    if problem := purpose_problem(" ".join(purpose.split()) or None):
        console.print(f"[red]{problem}")
        raise typer.Exit(2)
    encoding = _encoding(file)
    total = _count_rows(file, encoding)
    container = open_container()
    try:
        clock = container.clock
        matcher = Matcher(container.index, clock.today(), batch=batch)
        counts = {"rows": 0, "match": 0, "possible": 0, "none": 0}
        matched: dict[str, None] = {}
        started = clock.now()
        entry_id = container.access_log.append(  # before anything is read: no log, no run
            AccessEntry(
                at=started,
                read_on=clock.date_of(started),
                agency=agency,
                key_id=None,
                officer=officer,
                method="CLI",
                route="cli:match",
                path=str(file),
                status=200,
                purpose=" ".join(purpose.split()),
            )
        )
        completed = False
        try:
            _run(matcher, file, encoding, out, total, counts, matched)
            completed = True
        finally:
            container.access_log.append_result(
                entry_id, ended_at=clock.now(), completed=completed, counts=counts, usccs=list(matched)
            )
        decided = "，".join(f"{k} {counts[k]}" for k in ("match", "possible", "none"))
        console.print(f"{counts['rows']} 行：{decided} → {out}")
    finally:
        container.close()


def _run(
    matcher: Matcher,
    file: Path,
    encoding: str,
    out: Path,
    total: int,
    counts: dict[str, int],
    matched: dict[str, None],
) -> None:
    with (
        file.open(encoding=encoding, errors="replace", newline="") as source,
        out.open("w", encoding="utf-8-sig", newline="") as sink,
        progress() as bar,
    ):
        task = bar.add_task("比对", total=total)
        sink.write(csv_line(result_csv_header()))
        try:
            for result in matcher.match(csv_rows(source)):
                sink.write(csv_line(result_csv_row(result)))
                counts["rows"] += 1
                counts[result.decision] += 1
                if result.decision != "none" and result.candidates:
                    matched[result.candidates[0].candidate.uscc] = None
                bar.advance(task)
        except CsvHeaderError as err:
            console.print(f"[red]{err}")
            raise typer.Exit(2) from None


def read_results(path: Path) -> list[dict[str, str]]:
    """The rows of a results CSV (tests, tools)."""
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
