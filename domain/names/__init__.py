"""What the platform knows about Chinese enterprise names, for search and for matching lists.

- `forms` — the canonical form of a name (full-width → half-width, traditional → simplified,
  one legal form for limited companies) and its core (the name without its legal-form words);
- `pinyin` — pypinyin's readings of a name (cached per word), its full pinyin and initials;
- `query` — a typed query and the forms each matching rule uses;
- `fuzzy` — typo-tolerant matching: the grams a name is found by and how close it is;
- `highlight` — where a query matched a name, marked with `<em>`.

Pure functions over strings (pypinyin, rapidfuzz and OpenCC are the only libraries): the
projections use them to build the text an index matches on, both search engines to analyse,
rank and mark queries, and agency list matching to compare names — one implementation.
"""

from domain.names.forms import canonical, core, has_cjk, has_legal_form, simplified
from domain.names.fuzzy import (
    FUZZY_CANDIDATES,
    FUZZY_MIN_SCORE,
    FUZZY_MIN_SHARE,
    closest,
    fuzzy_score,
    min_shared,
    name_grams,
)
from domain.names.highlight import highlight
from domain.names.pinyin import full_pinyin, initials, lazy_pinyin, pinyin_items, pinyin_suffixes
from domain.names.query import Query, analyse

__all__ = [
    "FUZZY_CANDIDATES",
    "FUZZY_MIN_SCORE",
    "FUZZY_MIN_SHARE",
    "Query",
    "analyse",
    "canonical",
    "closest",
    "core",
    "full_pinyin",
    "fuzzy_score",
    "has_cjk",
    "has_legal_form",
    "highlight",
    "initials",
    "lazy_pinyin",
    "min_shared",
    "name_grams",
    "pinyin_items",
    "pinyin_suffixes",
    "simplified",
]
