"""Batch matching: rows of an agency's list in, one decided row out per row in, in input order.

Rows are taken in batches (default 200): one candidate lookup per batch (`SearchIndex.
match_candidates`: one `_msearch` on Elasticsearch), then every row is scored against its
candidates (`domain.names.matching`). A row whose USCC was not among its candidates is looked up
once more with the USCC's one-character neighbours (a second lookup for those rows only). Memory
stays bounded by the batch whatever the list's length: rows are read, decided and handed on.

The same matcher serves `POST /api/v1/agency/match` and `gongshi match FILE.csv`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import islice
from typing import Any

from adapters.search_index.base import MatchProbe, SearchIndex
from domain.errors import InvalidUSCC
from domain.names.matching import Candidate, Decision, Matched, MatchRow, decide, uscc_neighbours
from domain.uscc import USCC

__all__ = [
    "CSV_COLUMNS",
    "FIELDS",
    "HEADER_ALIASES",
    "MatchResult",
    "Matcher",
    "csv_rows",
    "result_csv_header",
    "result_csv_row",
]

FIELDS = ("name", "uscc", "registration_number", "legal_representative", "address")
#: Column names a CSV may use for each field (English or Chinese), compared without spaces and case.
HEADER_ALIASES: dict[str, str] = {
    "name": "name",
    "名称": "name",
    "企业名称": "name",
    "单位名称": "name",
    "主体名称": "name",
    "uscc": "uscc",
    "统一社会信用代码": "uscc",
    "信用代码": "uscc",
    "registration_number": "registration_number",
    "registrationnumber": "registration_number",
    "注册号": "registration_number",
    "legal_representative": "legal_representative",
    "legalrepresentative": "legal_representative",
    "法定代表人": "legal_representative",
    "负责人": "legal_representative",
    "address": "address",
    "地址": "address",
    "住所": "address",
}
CSV_COLUMNS = ("row", *FIELDS)
MAX_FIELD = 400


@dataclass
class MatchResult:
    row: int
    input: MatchRow
    decision: Decision
    candidates: list[Matched] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "input": {k: getattr(self.input, k) for k in FIELDS if getattr(self.input, k)},
            "decision": self.decision,
            "candidates": [c.public() for c in self.candidates],
            "flags": self.flags,
        }


class Matcher:
    def __init__(self, index: SearchIndex, today: date, *, batch: int = 200, candidates: int = 10) -> None:
        self.index = index
        self.today = today
        self.batch = batch
        self.size = candidates

    def match(self, rows: Iterable[MatchRow]) -> Iterator[MatchResult]:
        """Decide every row, in order (row numbers from 1)."""
        numbered = enumerate(rows, start=1)
        while chunk := list(islice(numbered, self.batch)):
            yield from self._batch(chunk)

    def _probe(self, row: MatchRow, usccs: tuple[str, ...]) -> MatchProbe:
        return MatchProbe(
            usccs=usccs,
            registration_number=row.registration_number,
            name=row.name,
            representative=row.legal_representative,
            size=self.size,
        )

    def _batch(self, chunk: list[tuple[int, MatchRow]]) -> list[MatchResult]:
        """Rows with a USCC are looked up by it first (one `mget`): found, and the row's name (if
        any) agreeing, they are decided. Every other row is looked up by all it has — its code
        and, when the code was not found, the code's one-character neighbours; its name; its
        registration number — in one multi-search."""
        rows = [row.clean() for _, row in chunk]
        found: list[list[dict[str, Any]]] = [[] for _ in rows]
        settled: dict[int, tuple[Decision, list[Matched], list[str]]] = {}
        coded = [i for i, r in enumerate(rows) if r.uscc]
        if coded:
            probes = [MatchProbe(usccs=(rows[i].uscc or "",), size=1) for i in coded]
            for i, docs in zip(coded, self.index.match_candidates(probes), strict=True):
                if not docs:
                    continue
                outcome = decide(rows[i], [Candidate.of(d, d["flags"]) for d in docs])
                if outcome[0] == "match":
                    settled[i] = outcome
                else:
                    found[i] = docs
        named = [i for i, r in enumerate(rows) if i not in settled and r.name and not found[i]]
        if named:  # the exact name lookups first: cheap, and they settle most named rows
            probes = [replace(self._probe(rows[i], ()), exact=True) for i in named]
            for i, docs in zip(named, self.index.match_candidates(probes), strict=True):
                outcome = decide(rows[i], [Candidate.of(d, d["flags"]) for d in docs])
                if outcome[0] == "match" and not rows[i].uscc and not rows[i].registration_number:
                    settled[i] = outcome  # every entity of that name (or former name) was looked at
                else:
                    found[i] = docs
        rest = [i for i in range(len(rows)) if i not in settled]
        if rest:
            probes = []
            for i in rest:
                code = rows[i].uscc
                usccs = () if not code else (code,) if found[i] else (code, *uscc_neighbours(code)[:40])
                probes.append(self._probe(rows[i], usccs))
            for i, docs in zip(rest, self.index.match_candidates(probes), strict=True):
                seen = {d["uscc"] for d in found[i]}
                found[i] = [*found[i], *(d for d in docs if d["uscc"] not in seen)]
        results = []
        for n, ((number, _), row) in enumerate(zip(chunk, rows, strict=True)):
            decision, ranked, row_flags = settled.get(n) or decide(
                row, [Candidate.of(doc, doc["flags"]) for doc in found[n]]
            )
            results.append(MatchResult(number, row, decision, ranked, row_flags))
        return results


# --- CSV in and out -------------------------------------------------------------------------------


class CsvHeaderError(ValueError):
    """The CSV's header names none of the fields."""


def column_map(header: list[str]) -> dict[int, str]:
    """Which column holds which field (`名称` → name …); unknown columns are ignored."""
    out: dict[int, str] = {}
    for i, raw in enumerate(header):
        key = raw.strip().lstrip("\ufeff").replace(" ", "").lower()
        field_name = HEADER_ALIASES.get(key)
        if field_name and field_name not in out.values():
            out[i] = field_name
    if not out:
        raise CsvHeaderError(
            "CSV 表头应含有以下列之一：名称/name、统一社会信用代码/uscc、注册号/registration_number、"
            "法定代表人/legal_representative、地址/address"
        )
    return out


def csv_rows(lines: Iterable[str]) -> Iterator[MatchRow]:
    """Rows of a CSV (English or Chinese header), read as they come."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    columns = column_map(header)
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        values = {name: (record[i][:MAX_FIELD] if i < len(record) else None) for i, name in columns.items()}
        yield MatchRow(**values)


def result_csv_header() -> list[str]:
    return [
        "row",
        *FIELDS,
        "decision",
        "flags",
        *(f"candidate_{n}_{part}" for n in range(1, 4) for part in ("uscc", "name", "score", "explanation")),
        "candidate_1_status",
        "candidate_1_flags",
    ]


def result_csv_row(result: MatchResult) -> list[str]:
    cells = [str(result.row), *((getattr(result.input, f) or "") for f in FIELDS), result.decision]
    cells.append(" ".join(result.flags))
    for n in range(3):
        if n < len(result.candidates):
            c = result.candidates[n]
            explanation = "；".join(f.label for f in c.features)
            cells += [c.candidate.uscc, c.candidate.name, f"{c.score:.3f}", explanation]
        else:
            cells += ["", "", "", ""]
    best = result.candidates[0] if result.candidates else None
    cells += [best.candidate.status or "" if best else "", " ".join(best.candidate.flags) if best else ""]
    return cells


def csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def valid_uscc(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return USCC.parse(value).value
    except InvalidUSCC:
        return None
