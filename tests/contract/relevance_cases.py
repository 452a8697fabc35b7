"""The relevance test set: queries people type, each with the entity that must come first.

The register is fixed: `generate(300, SEED, TODAY)` applied through the Registry (in memory) and
projected with `index_entity`, as the projection runner does. The queries are derived from it
deterministically — full names, fragments, former names, pinyin (full and initials), USCCs typed
in lower case with spaces, registration numbers, legal representatives, legal-form variants and
typos — and each is kept only when the data make its answer unambiguous under the ranking the
port promises (exact code > exact name > name phrase > former name > person > pinyin > fuzzy):
a fragment must occur in one entity's names only, a person must represent one entity only, etc.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from adapters.clock import FixedDateClock
from adapters.search_index.base import IndexedEntity
from adapters.search_index.ranking import names_of
from domain import names
from domain.departments import DepartmentRegistry
from domain.registry import Registry
from infra.datagen.generator import generate
from projections.runner import index_entity

SEED = 20261122
ENTITIES = 300
TODAY = date(2026, 11, 22)
TYPO_CHAR = "彧"  # in no generated name


@dataclass(frozen=True)
class Case:
    kind: str
    query: str
    expected_uscc: str
    expected_name: str


def build_register() -> list[IndexedEntity]:
    registry = Registry(
        clock=FixedDateClock(TODAY),
        departments=DepartmentRegistry.load_default(),
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
    )
    try:
        envelopes = list(generate(ENTITIES, SEED, TODAY))
        for start in range(0, len(envelopes), 500):
            registry.process(envelopes[start : start + 500])
        usccs = [e["uscc"] for e in envelopes if e["kind"] == "registration.registered"]
        return [index_entity(registry.get_entity(uscc), TODAY) for uscc in usccs]
    finally:
        registry.close()


class Register:
    def __init__(self, entities: list[IndexedEntity]) -> None:
        self.entities = entities
        self.names = {e.uscc: names_of(e.public) for e in entities}
        self.current = Counter(e.public["name"] for e in entities)
        self.canonical = Counter(names.canonical(e.public["name"]) for e in entities)
        self.persons = Counter(e.fields["person"] for e in entities)

    def holders(self, fragment: str, *, canonical: bool = False) -> set[str]:
        """Entities with `fragment` in one of their names (or canonical names)."""
        form = names.canonical if canonical else (lambda n: n)
        return {u for u, held in self.names.items() if any(fragment in form(n) for n in held)}

    def pinyin_holders(self, typed: str) -> set[str]:
        return {e.uscc for e in self.entities if typed in e.fields["pinyin"]}


def _case(kind: str, query: str, e: IndexedEntity) -> Case:
    return Case(kind, query, e.uscc, e.public["name"])


def _take(
    entities: list[IndexedEntity], want: int, make: Callable[[IndexedEntity], str | None], kind: str
) -> list[Case]:
    out: list[Case] = []
    for e in entities:
        if len(out) == want:
            break
        if (query := make(e)) is not None:
            out.append(_case(kind, query, e))
    return out


def _fragments(name: str, width: int) -> Iterator[str]:
    for i in range(2, len(name) - width + 1):
        yield name[i : i + width]


def derive_cases(entities: list[IndexedEntity]) -> list[Case]:
    reg = Register(entities)
    by_uscc = sorted(entities, key=lambda e: e.uscc)
    plain = [e for e in by_uscc if names.has_cjk(e.public["name"])]
    cases: list[Case] = []

    def full_name(e: IndexedEntity) -> str | None:
        name = e.public["name"]
        return name if reg.current[name] == 1 and reg.canonical[names.canonical(name)] == 1 else None

    def fragment(e: IndexedEntity) -> str | None:
        for frag in _fragments(e.public["name"], 4):
            if any(w in frag for w in ("有限", "公司", "分公", "合伙")) or not names.has_cjk(frag):
                continue
            if reg.holders(frag) == {e.uscc} and reg.holders(names.canonical(frag), canonical=True) == {
                e.uscc
            }:
                return frag
        return None

    def former_name(e: IndexedEntity) -> str | None:
        for former in e.public["former_names"]:
            name = former["name"]
            others = reg.holders(name) | reg.holders(names.canonical(name), canonical=True)
            if others == {e.uscc} and name not in e.public["name"]:
                return name
        return None

    def pinyin_of_fragment(spaced: bool) -> Callable[[IndexedEntity], str | None]:
        def make(e: IndexedEntity) -> str | None:
            for frag in _fragments(e.public["name"], 4):
                if not all(names.has_cjk(ch) for ch in frag):
                    continue
                syllables = [names.full_pinyin(ch) for ch in frag]
                squeezed = "".join(syllables)
                if reg.pinyin_holders(squeezed) == {e.uscc}:
                    return " ".join(syllables) if spaced else squeezed
            return None

        return make

    def initials_of_fragment(e: IndexedEntity) -> str | None:
        for frag in _fragments(e.public["name"], 4):
            if all(names.has_cjk(ch) for ch in frag):
                typed = names.initials(frag)
                if reg.pinyin_holders(typed) == {e.uscc}:
                    return typed
        return None

    def uscc_typed(e: IndexedEntity) -> str:
        return " ".join(e.uscc[i : i + 4] for i in range(0, 18, 4)).lower()

    def registration_number(e: IndexedEntity) -> str | None:
        number = e.public.get("registration_number")
        return f" {number[:6]} {number[6:]} " if number else None

    def person(e: IndexedEntity) -> str | None:
        name = e.fields["person"]
        if names.has_cjk(name) and reg.persons[name] == 1 and not reg.holders(name):
            return name
        return None

    def legal_form_variant(e: IndexedEntity) -> str | None:
        name = e.public["name"]
        if full_name(e) is None:
            return None
        for written, variant in (
            ("股份有限公司", "有限公司"),
            ("有限责任公司", "有限公司"),
            ("有限公司", "有限责任公司"),
        ):
            if written in name:
                query = name.replace(written, variant, 1)
                return query if reg.current[query] == 0 else None
        return None

    def typo(e: IndexedEntity) -> str | None:
        name = e.public["name"]
        if full_name(e) is None or len(name) < 8:
            return None
        query = name[:3] + TYPO_CHAR + name[4:]
        scores = sorted(
            ((names.fuzzy_score(names.analyse(query), held), u) for u, held in reg.names.items()),
            reverse=True,
        )
        return query if scores[0][1] == e.uscc and scores[0][0] - scores[1][0] >= 5 else None

    def pinyin_typo(e: IndexedEntity) -> str | None:
        name = e.public["name"]
        if full_name(e) is None or not all(names.has_cjk(ch) for ch in name):
            return None
        spelled = names.full_pinyin(name)
        at = len(spelled) // 2
        query = spelled[:at] + spelled[at + 1] + spelled[at] + spelled[at + 2 :]
        if query == spelled or reg.pinyin_holders(query):
            return None
        scores = sorted(
            ((names.fuzzy_score(names.analyse(query), held), u) for u, held in reg.names.items()),
            reverse=True,
        )
        return query if scores[0][1] == e.uscc and scores[0][0] - scores[1][0] >= 5 else None

    cases += _take(plain, 8, full_name, "full_name")
    cases += _take(plain[40:], 8, fragment, "fragment")
    cases += _take(plain, 6, former_name, "former_name")
    cases += _take(plain[80:], 4, pinyin_of_fragment(spaced=True), "pinyin_full_spaced")
    cases += _take(plain[120:], 4, pinyin_of_fragment(spaced=False), "pinyin_full")
    cases += _take(plain[160:], 6, initials_of_fragment, "pinyin_initials")
    cases += _take(by_uscc[::37], 6, uscc_typed, "uscc_typed")
    cases += _take(by_uscc[5:], 5, registration_number, "registration_number")
    cases += _take(plain, 6, person, "legal_representative")
    cases += _take(
        [e for e in plain if "有限责任公司" in e.public["name"]], 3, legal_form_variant, "legal_form"
    )
    cases += _take(
        [e for e in plain if "股份有限公司" in e.public["name"]], 2, legal_form_variant, "legal_form"
    )
    cases += _take(
        [
            e
            for e in plain
            if e.public["name"].endswith("有限公司")
            and "有限责任" not in e.public["name"]
            and "股份" not in e.public["name"]
        ],
        3,
        legal_form_variant,
        "legal_form",
    )
    cases += _take(
        [e for e in plain if e.public["name"].endswith("分公司")], 2, legal_form_variant, "legal_form"
    )
    cases += _take(plain[200:], 6, typo, "typo")
    cases += _take(plain[20:], 3, pinyin_typo, "pinyin_typo")
    unique: dict[str, Case] = {}
    for case in cases:
        unique.setdefault(case.query, case)
    return list(unique.values())
