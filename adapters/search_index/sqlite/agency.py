"""Agencies' reads: agency documents in batches, a person's entities, and batch matching's
candidates (one connection, a few indexed queries per row: SQLite has no network round trip to
save, so there is no multi-search to batch them into)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from adapters.search_index.base import MatchProbe
from adapters.search_index.sqlite.connection import Connections
from domain import names
from domain.names.matching import name_forms

#: SQLite's default limit on bound parameters is 32,766; batches stay well below it.
BATCH = 900


class AgencyReader:
    def __init__(self, connections: Connections) -> None:
        self.connections = connections

    def sharing_many(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        c = self.connections.get()
        out: dict[str, dict[str, Any]] = {}
        distinct = list(dict.fromkeys(usccs))
        for start in range(0, len(distinct), BATCH):
            chunk = distinct[start : start + BATCH]
            marks = ", ".join("?" * len(chunk))
            for uscc, doc in c.execute(
                f"SELECT uscc, sharing_doc FROM sharing WHERE uscc IN ({marks})", chunk
            ):
                out[str(uscc)] = json.loads(doc)
        return out

    def entities_of_person(self, id_number: str, limit: int) -> list[str]:
        rows = self.connections.get().execute(
            "SELECT uscc FROM sharing_persons WHERE id_number = ? ORDER BY uscc LIMIT ?",
            (id_number.strip().upper(), limit),
        )
        return [str(r[0]) for r in rows]

    def match_candidates(self, probes: Sequence[MatchProbe]) -> list[list[dict[str, Any]]]:
        c = self.connections.get()
        c.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS entities_grams_vocab USING fts5vocab(entities_grams, 'row')"
        )
        total = int(c.execute("SELECT COUNT(*) FROM entities").fetchone()[0])
        return [probe_candidates(c, probe, total) for probe in probes]


# --- batch matching ----------------------------------------------------------------------------------

_E = "ESCAPE '\\'"


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _rare(c: sqlite3.Connection, grams: Sequence[str], total: int) -> list[str]:
    """The grams to look candidates up by: those few entities carry (科技, 贸易 … are in a large
    share of all names: ranking every entity that has one is what made this slow), or the two
    rarest when every gram is common. Candidates must still share enough of all the grams."""
    marks = ", ".join("?" * len(grams))
    df = dict(c.execute(f"SELECT term, doc FROM entities_grams_vocab WHERE term IN ({marks})", tuple(grams)))
    limit = max(200, total // 50)
    rare = [g for g in grams if df.get(g, 0) <= limit]
    return rare or sorted(grams, key=lambda g: df.get(g, 0))[:2]


def probe_candidates(c: sqlite3.Connection, probe: MatchProbe, total: int = 0) -> list[dict[str, Any]]:
    """The candidates of one row, best kinds first: codes, exact names, name phrases, grams."""
    found: dict[str, dict[str, Any]] = {}

    def take(sql: str, params: Sequence[Any]) -> None:
        for uscc, doc, flags in c.execute(sql, params):
            if len(found) >= probe.size:
                return
            if str(uscc) not in found:
                found[str(uscc)] = {**json.loads(doc), "flags": str(flags).split()}

    select = "SELECT e.uscc, e.public_doc, e.flags FROM entities e"
    if probe.usccs:
        marks = ", ".join("?" * len(probe.usccs))
        take(f"{select} WHERE e.uscc IN ({marks}) ORDER BY e.uscc", probe.usccs)
    if probe.registration_number and len(probe.registration_number) >= 3:
        take(
            f"{select} WHERE e.uscc IN (SELECT uscc FROM entities_fts WHERE entities_fts MATCH ?)",
            ("{codes} : " + _phrase(probe.registration_number),),
        )
    if probe.name:
        query = names.analyse(probe.name)
        if query.cjk:
            forms = name_forms(probe.name)
            core = names.core(probe.name)
            bare = forms.bare.replace("分公司", "")
            take(f"{select} WHERE e.name_canonical = ? ORDER BY e.uscc", (forms.canonical,))
            if core:
                take(f"{select} WHERE e.name_core = ? ORDER BY e.uscc", (core,))
                if len(core) >= 3:  # former names, as Elasticsearch's exact pass reads them
                    take(
                        f"{select} WHERE e.uscc IN "
                        "(SELECT uscc FROM entities_fts WHERE entities_fts MATCH ?) ORDER BY e.uscc LIMIT 50",
                        ("{former_core} : " + _phrase(core),),
                    )
            if probe.exact:
                return list(found.values())
            for term in dict.fromkeys(t for t in (core, bare) if t):
                if len(term) >= 3:
                    take(
                        f"{select} WHERE e.uscc IN "
                        "(SELECT uscc FROM entities_fts WHERE entities_fts MATCH ?) "
                        "ORDER BY length(e.name), e.uscc LIMIT 50",
                        ("{name_core former_core} : " + _phrase(term),),
                    )
                elif len(found) < probe.size:
                    take(
                        f"{select} WHERE e.name_core LIKE ? {_E} OR e.former_core LIKE ? {_E} "
                        "ORDER BY length(e.name), e.uscc LIMIT 50",
                        (_like(term), _like(term)),
                    )
        elif probe.exact:
            return list(found.values())
        elif len(query.squeezed) >= 3:
            take(
                f"{select} WHERE e.uscc IN (SELECT uscc FROM entities_fts WHERE entities_fts MATCH ?) "
                "ORDER BY length(e.name), e.uscc LIMIT 50",
                ("{pinyin} : " + _phrase(query.squeezed),),
            )
        needed: int | None = None
        if query.cjk:
            bare = name_forms(probe.name).bare
            if len(bare) >= 3:
                # the bare name's bigrams, all but two (a typed-wrong character spoils two), as on
                # Elasticsearch; and its full pinyin as a phrase (a homophone typed, 茂 for 贸)
                grams = names.analyse(bare).grams()
                needed = max(1, len(grams) - 2)
                spelled = names.full_pinyin(bare)
                if len(spelled) >= 3 and len(found) < probe.size:
                    take(
                        f"{select} WHERE e.uscc IN "
                        "(SELECT uscc FROM entities_fts WHERE entities_fts MATCH ?) ORDER BY e.uscc LIMIT 50",
                        ("{pinyin} : " + _phrase(spelled),),
                    )
            else:
                grams = query.grams()
        else:
            grams = query.grams()
        if grams and len(found) < probe.size:
            rows = c.execute(
                "SELECT e.uscc, e.public_doc, e.flags, g.grams FROM entities_grams g "
                "JOIN entities e ON e.uscc = g.uscc "
                "WHERE entities_grams MATCH ? ORDER BY bm25(entities_grams) LIMIT ?",
                (" OR ".join(_phrase(g) for g in _rare(c, grams, total)), 5 * probe.size),
            ).fetchall()
            needed = needed or names.min_shared(grams)
            wanted = set(grams)
            for uscc, doc, flags, stored in rows:
                if len(found) >= probe.size:
                    break
                if len(wanted.intersection(stored.split())) >= needed and str(uscc) not in found:
                    found[str(uscc)] = {**json.loads(doc), "flags": str(flags).split()}
    return list(found.values())
