"""Where a query matched a name: the name with `<em>` marks (HTML-escaped), whichever rule matched
— as typed, case-folded, canonical, core, pinyin, or (for the fuzzy tier) the closest span."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from rapidfuzz import fuzz

from domain.names.forms import CORE_DROPPED, find_all, mapped_canonical
from domain.names.pinyin import syllables
from domain.names.query import Query


def _mark(name: str, spans: Sequence[tuple[int, int]]) -> str:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out, at = [], 0
    for start, end in merged:
        out.append(html.escape(name[at:start]))
        out.append(f"<em>{html.escape(name[start:end])}</em>")
        at = end
    out.append(html.escape(name[at:]))
    return "".join(out)


def _canonical_spans(name: str, typed: str) -> list[tuple[int, int]]:
    text, spans = mapped_canonical(name)
    return [(spans[a][0], spans[b - 1][1]) for a, b in find_all(text, typed)]


def _core_spans(name: str, query_core: str) -> list[tuple[int, int]]:
    """Where the query's core words sit in the name, each part between legal-form words marked."""
    text, spans = mapped_canonical(name)
    keep = [True] * len(text)
    for word in CORE_DROPPED:
        for a, b in find_all(text, word):
            keep[a:b] = [False] * (b - a)
    kept = [i for i, k in enumerate(keep) if k]
    reduced = "".join(text[i] for i in kept)
    out = []
    for a, b in find_all(reduced, query_core)[:1]:
        for i in kept[a:b]:
            out.append(spans[i])
    return out


def _pinyin_spans(name: str, typed: str) -> list[tuple[int, int]]:
    """The characters whose full pinyin or initials spell what was typed (a partial last syllable
    of full pinyin counts)."""
    for initial in (False, True):
        spelled_by = syllables(name, initial)
        for i in range(len(spelled_by)):
            spelled = ""
            for j in range(i, len(spelled_by)):
                spelled += spelled_by[j][0]
                if len(spelled) >= len(typed):
                    if spelled.startswith(typed):
                        return [(spelled_by[i][1], spelled_by[j][2])]
                    break
    return []


def _fuzzy_spans(query: Query, name: str) -> list[tuple[int, int]]:
    if not query.cjk:
        return []
    text, spans = mapped_canonical(name)
    found = fuzz.partial_ratio_alignment(query.canonical, text)
    if found is None or found.dest_end <= found.dest_start:
        return []
    return [(spans[found.dest_start][0], spans[found.dest_end - 1][1])]


def highlight(query: Query, names: Sequence[str], *, fuzzy: bool = False) -> str | None:
    """The first of `names` (current name first) the query matches, with `<em>` marks; None when
    the match was on something else (a code, the legal representative)."""
    if query.is_code or not query.text:
        return None
    rules: tuple[Callable[[str], list[tuple[int, int]]], ...] = (
        lambda n: find_all(n, query.text),
        lambda n: find_all(n.casefold(), query.lower),
        lambda n: _canonical_spans(n, query.canonical),
        lambda n: _core_spans(n, query.core) if query.core else [],
        lambda n: [] if query.cjk else _pinyin_spans(n, query.squeezed),
    )
    for rule in rules:
        for name in names:
            if spans := rule(name):
                return _mark(name, spans)
    if fuzzy:
        for name in names:
            if spans := _fuzzy_spans(query, name):
                return _mark(name, spans)
    return None
