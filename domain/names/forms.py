"""The forms of a name that matching compares.

- `canonical`: traditional characters folded to simplified (OpenCC `t2s`: 天津濱海恆通 =
  天津滨海恒通), NFKC (full-width → half-width, so （天津） = (天津)), no whitespace, case-folded,
  and one legal form for limited companies: 有限责任公司 and 股份有限公司 are written 有限公司, so
  a query 恒通科技有限责任公司 finds 恒通科技有限公司 and the other way round.
- `core`: the canonical name without its legal-form words (有限公司, 分公司, 有限合伙, a final
  公司): 大连宸弘餐饮管理有限公司天津宝坻分公司 and 大连宸弘餐饮管理天津宝坻分公司 share a core.

`mapped_canonical` also says which characters of the written name each canonical character
comes from, so a match on the canonical form can be marked on the name as written.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

#: Written forms of a legal form → the canonical one (longest first: they overlap).
LEGAL_FORM_VARIANTS: tuple[tuple[str, str], ...] = (
    ("股份有限公司", "有限公司"),
    ("有限责任公司", "有限公司"),
)
#: Legal-form words dropped from the canonical name to get its core (longest first).
CORE_DROPPED = ("(有限合伙)", "(普通合伙)", "有限合伙", "有限公司", "分公司")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_T2S = opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """`text` with traditional characters written simplified, character for character (OpenCC
    converts by phrase, e.g. 乾隆 keeps 乾 where 乾燥 becomes 干燥; a phrase whose conversion
    changes its length is converted one character at a time instead)."""
    folded = str(_T2S.convert(text))
    if len(folded) == len(text):
        return folded
    out = []
    for ch in text:
        one = str(_T2S.convert(ch))
        out.append(one if len(one) == 1 else ch)
    return "".join(out)


def mapped_canonical(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The canonical text and, per canonical character, the span of `text` it comes from."""
    text_ = simplified(text)  # same length: positions in it are positions in `text`
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text_):
        for variant, canonical_form in LEGAL_FORM_VARIANTS:
            if text_.startswith(variant, i):
                out.extend(canonical_form)
                spans.extend([(i, i + len(variant))] * len(canonical_form))
                i += len(variant)
                break
        else:
            for ch in unicodedata.normalize("NFKC", text_[i]).casefold():
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
    return mapped_canonical(text)[0]


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


def find_all(haystack: str, needle: str) -> list[tuple[int, int]]:
    """Every non-overlapping (start, end) of `needle` in `haystack`."""
    spans, at = [], haystack.find(needle)
    while needle and at >= 0:
        spans.append((at, at + len(needle)))
        at = haystack.find(needle, at + len(needle))
    return spans
