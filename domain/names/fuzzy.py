"""Typo-tolerant matching: the grams a name is found by, and how close a query is to a name.

An entity is indexed under character bigrams of its canonical names and trigrams of their full
pinyin; a query's candidates are the entities sharing at least `FUZZY_MIN_SHARE` of its grams,
re-scored with rapidfuzz and kept from `FUZZY_MIN_SCORE` up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from rapidfuzz import fuzz

from domain.names.forms import canonical
from domain.names.pinyin import full_pinyin
from domain.names.query import Query, ngrams

FUZZY_MIN_SHARE = 0.6  # a fuzzy candidate shares at least this share of the query's grams
FUZZY_MIN_SCORE = 75.0  # and scores at least this (rapidfuzz, 0–100)
FUZZY_CANDIDATES = 200  # candidates re-scored per query

T = TypeVar("T")


def name_grams(names: Iterable[str]) -> list[str]:
    """The grams an entity is indexed under for the fuzzy tier (distinct, in first-seen order)."""
    grams: dict[str, None] = {}
    for name in names:
        grams.update(dict.fromkeys(ngrams(canonical(name), 2)))
        grams.update(dict.fromkeys(ngrams(full_pinyin(name), 3)))
    return list(grams)


def min_shared(grams: Sequence[str]) -> int:
    """How many of a query's grams a fuzzy candidate must share."""
    return max(1, int(len(grams) * FUZZY_MIN_SHARE + 0.999))


def fuzzy_score(query: Query, names: Sequence[str]) -> float:
    """How close the query is to the best of an entity's names (0–100)."""
    best = 0.0
    for name in names:
        if query.cjk:
            target, typed = canonical(name), query.canonical
        else:
            target, typed = full_pinyin(name), query.squeezed
        best = max(best, fuzz.ratio(typed, target), fuzz.partial_ratio(typed, target))
    return best


def closest(query: Query, candidates: Iterable[tuple[T, Sequence[str], Iterable[str]]]) -> list[T]:
    """Of `candidates` — (item, its names with the current name first, its grams) — those that
    share enough of the query's grams and are close enough: closest first, then shorter current
    name, then current name."""
    grams = set(query.grams())
    needed = min_shared(sorted(grams))
    scored = []
    for item, names, stored in candidates:
        if len(grams.intersection(stored)) < needed:
            continue
        score = fuzzy_score(query, names)
        if score >= FUZZY_MIN_SCORE:
            scored.append((-round(score, 6), len(names[0]), names[0], item))
    scored.sort(key=lambda s: s[:3])
    return [s[3] for s in scored]
