"""How names and queries are normalised, matched loosely and highlighted — the same for both indexes.

- `canonical`: NFKC (full-width → half-width, so （天津） = (天津)), no whitespace, case-folded, and
  one legal form for limited companies: 有限责任公司 and 股份有限公司 are written 有限公司, so a
  query 恒通科技有限责任公司 finds 恒通科技有限公司 and the other way round.
- `core`: the canonical name without its legal-form words (有限公司, 分公司, 有限合伙, a final
  公司): 大连宸弘餐饮管理有限公司天津宝坻分公司 and 大连宸弘餐饮管理天津宝坻分公司 share a core.
- `grams`: what the fuzzy tier matches on — character bigrams of canonical names and trigrams
  of their full pinyin; candidates sharing most of a query's grams are re-scored with rapidfuzz.
- `highlight`: the matched name with `<em>` marks (HTML-escaped), whichever rule matched.

Pure functions: the projections use them to build the indexed text, the adapters to analyse
queries and to rank and mark the fuzzy tier and the highlights in Python, identically.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pypinyin import Style
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin
from rapidfuzz import fuzz

from adapters.search_index.base import Page
from domain.uscc import looks_like_registration_number, looks_like_uscc

#: Written forms of a legal form → the canonical one (longest first: they overlap).
LEGAL_FORM_VARIANTS: tuple[tuple[str, str], ...] = (
    ("股份有限公司", "有限公司"),
    ("有限责任公司", "有限公司"),
)
#: Legal-form words dropped from the canonical name to get its core (longest first).
CORE_DROPPED = ("(有限合伙)", "(普通合伙)", "有限合伙", "有限公司", "分公司")
FUZZY_MIN_SHARE = 0.6  # a fuzzy candidate shares at least this share of the query's grams
FUZZY_MIN_SCORE = 75.0  # and scores at least this (rapidfuzz, 0–100)
FUZZY_CANDIDATES = 200  # candidates re-scored per query

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")


def _mapped_canonical(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The canonical text and, per canonical character, the span of `text` it comes from."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        for variant, canonical_form in LEGAL_FORM_VARIANTS:
            if text.startswith(variant, i):
                out.extend(canonical_form)
                spans.extend([(i, i + len(variant))] * len(canonical_form))
                i += len(variant)
                break
        else:
            for ch in unicodedata.normalize("NFKC", text[i]).casefold():
                if not ch.isspace():
                    out.append(ch)
                    spans.append((i, i + 1))
            i += 1
    canonical_text = "".join(out)
    # variants written with full-width or spaced characters are only visible after NFKC
    for variant, canonical_form in LEGAL_FORM_VARIANTS:
        while (at := canonical_text.find(variant)) >= 0:
            span = (spans[at][0], spans[at + len(variant) - 1][1])
            canonical_text = canonical_text[:at] + canonical_form + canonical_text[at + len(variant) :]
            spans[at : at + len(variant)] = [span] * len(canonical_form)
    return canonical_text, spans


@lru_cache(maxsize=65536)
def canonical(text: str) -> str:
    return _mapped_canonical(text)[0]


def core(text: str) -> str:
    out = canonical(text)
    for word in CORE_DROPPED:
        out = out.replace(word, "")
    return out.removesuffix("公司")


def has_legal_form(text: str) -> bool:
    c = canonical(text)
    return any(word in c for word in CORE_DROPPED) or c.endswith("公司")


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


class _WordCachedConverter(DefaultConverter):
    """pypinyin's converter, remembering the pinyin of each word its segmenter hands over.

    Names share most of their words (天津市, 科技, 有限公司…), and converting a word — phrase
    lookup, then the style of each reading — is where pypinyin spends its time; the segmenter
    itself is cheap. The result is the same as pypinyin's: the same words are converted with the
    same arguments. Bounded: cleared when it holds `MAX_WORDS`."""

    MAX_WORDS = 200_000

    def __init__(self) -> None:
        super().__init__()
        self._words: dict[tuple[str, Style, bool, str, bool], tuple[tuple[str, ...], ...]] = {}

    def convert(
        self,
        words: str,
        style: Style,
        heteronym: bool,
        errors: Callable[[str], str] | str,
        strict: bool = True,
        **kwargs: Any,
    ) -> list[list[str]]:
        if kwargs or callable(errors):
            return super().convert(words, style, heteronym, errors, strict, **kwargs)
        key = (words, style, heteronym, errors, strict)
        found = self._words.get(key)
        if found is None:
            if len(self._words) >= self.MAX_WORDS:
                self._words.clear()
            converted = super().convert(words, style, heteronym, errors, strict)
            found = self._words[key] = tuple(tuple(item) for item in converted)
        return [list(item) for item in found]


_PINYIN = Pinyin(_WordCachedConverter())


def lazy_pinyin(name: str) -> list[str]:
    """pypinyin's `lazy_pinyin(name)` (normal style, one reading per character)."""
    result: list[str] = _PINYIN.lazy_pinyin(name)
    return result


@lru_cache(maxsize=65536)
def pinyin_items(name: str) -> tuple[tuple[str, str, int, int], ...]:
    """One pypinyin pass per name (cached): for each Chinese character, or run of anything
    else, (full pinyin as pypinyin writes it, its initial letter, start, end). A run that is
    not Chinese is its own "pinyin" and "initial"."""
    out = []
    at = 0
    for item in lazy_pinyin(name):
        if name.startswith(item, at):  # not converted: the text itself
            out.append((item, item, at, at + len(item)))
            at += len(item)
        else:
            out.append((item, item[:1], at, at + 1))
            at += 1
    return tuple(out)


def _ascii(item: str) -> str:
    if item.isascii() and item.isalnum():  # a pinyin syllable, or a run of letters and digits
        return item.lower()
    return "".join(ch for ch in item.lower() if ch.isascii() and ch.isalnum())


@lru_cache(maxsize=65536)
def _syllables(name: str, style: Style) -> tuple[tuple[str, int, int], ...]:
    """(lower-case ASCII syllable or initial, start, end) per character or non-Chinese run."""
    initial = style == Style.FIRST_LETTER
    return tuple((_ascii(i if initial else p), a, b) for p, i, a, b in pinyin_items(name))


def full_pinyin(name: str) -> str:
    return "".join(s for s, _, _ in _syllables(name, Style.NORMAL))


def initials(name: str) -> str:
    return "".join(s for s, _, _ in _syllables(name, Style.FIRST_LETTER))


def _ngrams(text: str, n: int) -> list[str]:
    return [text[i : i + n] for i in range(len(text) - n + 1)] if len(text) >= n else []


def name_grams(names: Iterable[str]) -> list[str]:
    """The grams an entity is indexed under for the fuzzy tier (distinct, in first-seen order)."""
    grams: dict[str, None] = {}
    for name in names:
        grams.update(dict.fromkeys(_ngrams(canonical(name), 2)))
        grams.update(dict.fromkeys(_ngrams(full_pinyin(name), 3)))
    return list(grams)


@dataclass(frozen=True)
class Query:
    """A search query as typed, and the forms each matching rule uses."""

    text: str  # whitespace collapsed
    compact: str  # no whitespace, upper case (codes)
    canonical: str
    core: str | None  # set when the query names a legal form, and something is left without it
    lower: str
    squeezed: str  # lower case, no whitespace (pinyin typed with spaces)
    is_code: bool

    @property
    def cjk(self) -> bool:
        return has_cjk(self.text)

    def grams(self) -> list[str]:
        """The query's fuzzy grams: bigrams of Chinese text, trigrams of pinyin (none if too short)."""
        if self.cjk:
            return list(dict.fromkeys(_ngrams(self.canonical, 2))) if len(self.canonical) >= 3 else []
        return list(dict.fromkeys(_ngrams(self.squeezed, 3))) if len(self.squeezed) >= 5 else []


def analyse(q: str) -> Query:
    text = _SPACES.sub(" ", "".join(ch if ch.isprintable() else " " for ch in q)).strip()
    compact = text.replace(" ", "").upper()
    query_core = core(text) if has_legal_form(text) else None
    return Query(
        text=text,
        compact=compact,
        canonical=canonical(text),
        core=query_core or None,
        lower=text.lower(),
        squeezed=text.replace(" ", "").lower(),
        is_code=looks_like_uscc(compact) or looks_like_registration_number(compact),
    )


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


# --- highlighting -----------------------------------------------------------------------------------


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


def _find_all(haystack: str, needle: str) -> list[tuple[int, int]]:
    spans, at = [], haystack.find(needle)
    while needle and at >= 0:
        spans.append((at, at + len(needle)))
        at = haystack.find(needle, at + len(needle))
    return spans


def _canonical_spans(name: str, typed: str) -> list[tuple[int, int]]:
    text, spans = _mapped_canonical(name)
    return [(spans[a][0], spans[b - 1][1]) for a, b in _find_all(text, typed)]


def _core_spans(name: str, query_core: str) -> list[tuple[int, int]]:
    """Where the query's core words sit in the name, each part between legal-form words marked."""
    text, spans = _mapped_canonical(name)
    keep = [True] * len(text)
    for word in CORE_DROPPED:
        for a, b in _find_all(text, word):
            keep[a:b] = [False] * (b - a)
    kept = [i for i, k in enumerate(keep) if k]
    reduced = "".join(text[i] for i in kept)
    out = []
    for a, b in _find_all(reduced, query_core)[:1]:
        for i in kept[a:b]:
            out.append(spans[i])
    return out


def _pinyin_spans(name: str, typed: str) -> list[tuple[int, int]]:
    """The characters whose full pinyin or initials spell what was typed (a partial last syllable
    of full pinyin counts)."""
    for style in (Style.NORMAL, Style.FIRST_LETTER):
        syllables = _syllables(name, style)
        for i in range(len(syllables)):
            spelled = ""
            for j in range(i, len(syllables)):
                spelled += syllables[j][0]
                if len(spelled) >= len(typed):
                    if spelled.startswith(typed):
                        return [(syllables[i][1], syllables[j][2])]
                    break
    return []


def _fuzzy_spans(query: Query, name: str) -> list[tuple[int, int]]:
    if not query.cjk:
        return []
    text, spans = _mapped_canonical(name)
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
        lambda n: _find_all(n, query.text),
        lambda n: _find_all(n.casefold(), query.lower),
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


def names_of(doc: dict[str, Any]) -> list[str]:
    """A public document's current name, then its former names."""
    return [doc["name"], *(f["name"] for f in doc.get("former_names", []))]


def fuzzy_page(
    query: Query, candidates: Sequence[tuple[dict[str, Any], Sequence[str]]], page: int, size: int
) -> Page:
    """The fuzzy tier over candidates (public document, its grams): those sharing enough of the
    query's grams and close enough by rapidfuzz, closest first, then shorter names, then name."""
    grams = set(query.grams())
    needed = min_shared(sorted(grams))
    scored = []
    for doc, stored in candidates:
        if len(grams.intersection(stored)) < needed:
            continue
        score = fuzzy_score(query, names_of(doc))
        if score >= FUZZY_MIN_SCORE:
            scored.append((-round(score, 6), len(doc["name"]), doc["name"], doc))
    scored.sort(key=lambda s: s[:3])
    start = (max(page, 1) - 1) * size
    chosen = [s[3] for s in scored[start : start + size]]
    return Page(len(scored), chosen, [highlight(query, names_of(doc), fuzzy=True) for doc in chosen])
