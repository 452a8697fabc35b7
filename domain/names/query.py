"""A search query as typed, and the forms each matching rule compares."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domain.names.forms import canonical, core, has_cjk, has_legal_form
from domain.uscc import looks_like_registration_number, looks_like_uscc

_SPACES = re.compile(r"\s+")
#: Marks people type around or inside a query that no name or code holds: quotes, wildcards,
#: operators of other search engines (after NFKC, which folds full-width forms: ＂ → ", ＊ → *).
_STRAY = re.compile(r"[\"“”„‟'‘’‚‛*^~?？!！#+|\\<>《》「」『』]")
_DASHES = re.compile(r"[-‐‑‒–—―−]")
#: Fewest characters of a name query (a code is always long enough): fewer match too much.
MIN_QUERY_LENGTH = 2


def clean(q: str) -> str:
    """`q` as matching sees it: full-width forms folded to half-width (NFKC), stray punctuation
    dropped (quotes, `*`, `^`, dashes, empty brackets and brackets alone at a word's edge),
    whitespace collapsed. Other brackets stay: names hold them, 天津某某（集团）有限公司."""
    text = unicodedata.normalize("NFKC", q)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _DASHES.sub("", _STRAY.sub(" ", text))
    return _SPACES.sub(" ", _paired_brackets(text)).strip()


def _paired_brackets(text: str) -> str:
    """`text` without empty brackets, nor a bracket that opens or closes a word alone: `(天津`,
    `天津)`. One inside a word stays, as typed from a name: 津)机械 is part of 泰丰(天津)机械."""
    text = re.sub(r"\(\s*\)|\[\s*\]", " ", text)
    words = []
    for word in text.split(" "):
        while word[:1] in ("(", "[") and word and ")]"["([".index(word[0])] not in word:
            word = word[1:]
        while word[-1:] in (")", "]") and word and "(["[")]".index(word[-1])] not in word:
            word = word[:-1]
        words.append(word)
    return " ".join(words)


def ngrams(text: str, n: int) -> list[str]:
    return [text[i : i + n] for i in range(len(text) - n + 1)] if len(text) >= n else []


@dataclass(frozen=True)
class Query:
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
            return list(dict.fromkeys(ngrams(self.canonical, 2))) if len(self.canonical) >= 3 else []
        return list(dict.fromkeys(ngrams(self.squeezed, 3))) if len(self.squeezed) >= 5 else []


def analyse(q: str) -> Query:
    text = clean(q)
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
