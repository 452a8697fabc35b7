"""A name's pinyin: pypinyin's readings (one pass per name, cached per word), full pinyin,
initials, and the syllable-aligned suffixes an index can match a typed prefix against."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from pypinyin import Style
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin


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
            converted: list[list[str]] = super().convert(words, style, heteronym, errors, strict, **kwargs)
            return converted
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
def syllables(name: str, initial: bool = False) -> tuple[tuple[str, int, int], ...]:
    """(lower-case ASCII syllable — or its initial — start, end) per character or non-Chinese run."""
    return tuple((_ascii(i if initial else p), a, b) for p, i, a, b in pinyin_items(name))


def full_pinyin(name: str) -> str:
    return "".join(s for s, _, _ in syllables(name))


def initials(name: str) -> str:
    return "".join(s for s, _, _ in syllables(name, initial=True))


def pinyin_suffixes(names: Iterable[str]) -> list[str]:
    """Every syllable-aligned suffix of each name's full pinyin and of its initials (distinct,
    in first-seen order), so a prefix match finds `binhai` or `bhht` inside a name."""
    words: dict[str, None] = {}
    for name in names:
        for initial in (False, True):
            spelled = [s for s, _, _ in syllables(name, initial)]
            for i in range(len(spelled)):
                if suffix := "".join(spelled[i:]):
                    words[suffix] = None
    return list(words)
