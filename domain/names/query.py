"""A search query as typed, and the forms each matching rule compares."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.names.forms import canonical, core, has_cjk, has_legal_form
from domain.uscc import looks_like_registration_number, looks_like_uscc

_SPACES = re.compile(r"\s+")


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
