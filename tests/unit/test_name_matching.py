"""The matcher's rules, one by one: the forms of a name, places that agree or contradict, branch
offices, codes one character off, pinyin, what a shared legal representative can and cannot do,
and when a row is ambiguous."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidUSCC
from domain.names.matching import (
    MATCH_AT,
    POSSIBLE_AT,
    Candidate,
    MatchRow,
    decide,
    name_forms,
    pinyin_stem,
    same_but_place,
    score,
    uscc_neighbours,
)
from domain.uscc import USCC, is_valid_uscc, make_uscc

A = make_uscc("120116", "MA00000A").value


def cand(name: str, uscc: str = A, **kw: object) -> Candidate:
    return Candidate(uscc=uscc, name=name, status="存续", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "registered", "feature"),
    [
        ("天津滨海恒通科技有限公司", "天津滨海恒通科技有限公司", "name_exact"),
        ("天津濱海恆通科技有限公司", "天津滨海恒通科技有限公司", "name_folded"),
        ("天 津 滨 海 恒 通 科 技 有 限 公 司", "天津滨海恒通科技有限公司", "name_folded"),
        ("天津滨海恒通科技有限责任公司", "天津滨海恒通科技有限公司", "name_canonical"),
        ("天津滨海恒通科技", "天津滨海恒通科技有限公司", "name_legal_form"),
        ("恒通科技有限公司", "天津市滨海新区恒通科技有限公司", "name_place"),
        ("祥广钢管有限公司", "祥广（天津）钢管有限公司", "name_place"),
    ],
)
def test_written_forms_of_the_same_name_match(typed: str, registered: str, feature: str) -> None:
    matched = score(MatchRow(name=typed), cand(registered))
    assert matched.score >= MATCH_AT and matched.features[0].code == feature


def test_places_that_contradict_each_other_are_different_entities() -> None:
    assert not same_but_place(name_forms("滨海新区张记服装店"), name_forms("静海区张记服装店"))
    assert same_but_place(
        name_forms("天津张记服装店"), name_forms("静海区张记服装店")
    )  # the city holds every district
    assert score(MatchRow(name="滨海新区张记服装店"), cand("静海区张记服装店")).score < POSSIBLE_AT


def test_a_branch_is_never_its_parent() -> None:
    parent = score(MatchRow(name="北京华泰物流有限公司"), cand("北京华泰物流有限公司天津滨海分公司"))
    assert parent.score < POSSIBLE_AT and parent.features[0].code == "name_branch_differs"
    branch = score(MatchRow(name="北京华泰物流天津滨海分公司"), cand("北京华泰物流有限公司天津滨海分公司"))
    assert branch.score >= MATCH_AT


def test_one_character_off_is_weak_and_a_word_added_is_nothing() -> None:
    typo = score(MatchRow(name="天津汇同新材料有限公司"), cand("天津汇通新材料有限公司"))
    assert 0 < typo.score < POSSIBLE_AT
    with_rep = score(
        MatchRow(name="天津汇同新材料有限公司", legal_representative="程桂红"),
        cand("天津汇通新材料有限公司", representative="程桂红"),
    )
    assert POSSIBLE_AT <= with_rep.score < MATCH_AT
    assert score(MatchRow(name="天津海方商贸国际有限公司"), cand("天津海方商贸有限公司")).score == 0


def test_a_unique_near_name_is_possible_and_two_are_nothing() -> None:
    B = make_uscc("120116", "MA00000B").value
    decision, _, _ = decide(MatchRow(name="天津汇同新材料有限公司"), [cand("天津汇通新材料有限公司")])
    assert decision == "possible"
    decision, _, _ = decide(
        MatchRow(name="滨海新区李记蔬菜店"), [cand("滨海新区杨记蔬菜店"), cand("滨海新区姜记蔬菜店", uscc=B)]
    )
    assert decision == "none"


def test_a_shared_legal_representative_alone_finds_nothing_and_orders_names() -> None:
    assert (
        decide(
            MatchRow(legal_representative="周海涛"), [cand("天津恒通科技有限公司", representative="周海涛")]
        )[0]
        == "none"
    )
    agrees = score(
        MatchRow(name="天津恒通科技有限公司", legal_representative="周海涛"),
        cand("天津恒通科技有限公司", representative="周海涛"),
    )
    differs = score(
        MatchRow(name="天津恒通科技有限公司", legal_representative="李四"),
        cand("天津恒通科技有限公司", representative="周海涛"),
    )
    assert agrees.score > differs.score and differs.features[-1].code == "legal_representative_differs"


def test_a_uscc_decides_unless_the_name_contradicts_it() -> None:
    assert score(MatchRow(uscc=A), cand("天津恒通科技有限公司")).score == 1.0
    conflict = score(MatchRow(uscc=A, name="天津德明建筑工程有限公司"), cand("天津恒通科技有限公司"))
    assert conflict.score < MATCH_AT and any(f.code == "name_differs" for f in conflict.features)


@given(st.integers(0, 17), st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"))
def test_a_one_character_typo_of_a_valid_uscc_finds_it_among_its_neighbours(position: int, ch: str) -> None:
    typo = A[:position] + ch + A[position + 1 :]
    if typo == A:
        return
    neighbours = uscc_neighbours(typo)
    assert A in neighbours
    for n in neighbours:
        USCC.parse(n)  # every neighbour is a valid code


def _neighbours_by_trying_every_code(raw: str) -> list[str]:
    """The reference: every substitution and swap, each checked by `USCC.parse`."""
    value = raw.replace(" ", "").replace("-", "").upper()
    if len(value) != 18:
        return []
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    variants = [value[:i] + ch + value[i + 1 :] for i in range(18) for ch in chars if ch != value[i]]
    variants += [
        value[:i] + value[i + 1] + value[i] + value[i + 2 :] for i in range(17) if value[i] != value[i + 1]
    ]
    found = []
    for variant in variants:
        try:
            USCC.parse(variant)
        except InvalidUSCC:
            continue
        found.append(variant)
    return list(dict.fromkeys(found))


CODE_CHARS = st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZ-a ")
TIANJIN_REGIONS = ("120000", "120116", "120101", "110108", "330106", "100000")


@given(
    st.sampled_from(TIANJIN_REGIONS),
    st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
    st.sampled_from(("91", "92", "93", "11", "52", "Y1")),
    st.lists(st.tuples(st.integers(0, 17), CODE_CHARS), max_size=2),
    st.booleans(),
)
def test_the_neighbours_of_a_code_are_those_found_by_trying_every_code(
    region: str, body: str, kind: str, edits: list[tuple[int, str]], swap: bool
) -> None:
    code = make_uscc(region, body, kind).value
    for position, ch in edits:
        code = code[:position] + ch + code[position + 1 :]
    if swap:
        code = code[1] + code[0] + code[2:]
    assert uscc_neighbours(code) == _neighbours_by_trying_every_code(code)


@given(st.text("0123456789ABCDEFGHJKLMNPQRTUWXYIOZ", min_size=16, max_size=19))
def test_a_code_is_valid_exactly_when_it_parses(value: str) -> None:
    try:
        USCC.parse(value)
        parses = True
    except InvalidUSCC:
        parses = False
    assert is_valid_uscc(value) is parses


def test_a_code_one_off_in_its_check_characters_is_valid_exactly_when_it_parses() -> None:
    for i in (16, 17):
        for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            value = A[:i] + ch + A[i + 1 :]
            assert is_valid_uscc(value) is (value == A)


def test_a_uscc_one_off_corroborates_a_name_and_never_matches_alone() -> None:
    neighbour = uscc_neighbours(A[:12] + ("1" if A[12] != "1" else "2") + A[13:])
    assert A in neighbour
    typo = A[:12] + ("1" if A[12] != "1" else "2") + A[13:]
    assert (
        score(MatchRow(uscc=typo, name="天津恒通科技有限公司"), cand("天津恒通科技有限公司")).score
        >= MATCH_AT
    )
    assert score(MatchRow(uscc=typo), cand("天津恒通科技有限公司")).score < MATCH_AT


def test_pinyin_rows_are_compared_without_legal_forms() -> None:
    assert pinyin_stem("Tianjin Hengtong Keji Youxian Zeren Gongsi") == "tianjinhengtongkeji"
    assert pinyin_stem("huataiwuliuyouxiangongsitianjinfengongsi") == "huataiwuliutianjinfengongsi"
    assert (
        score(MatchRow(name="tianjin hengtong keji youxiangongsi"), cand("天津恒通科技有限公司")).score
        >= MATCH_AT
    )


def test_two_entities_equally_close_make_a_row_ambiguous() -> None:
    B = make_uscc("120116", "MA00000B").value
    decision, ranked, flags = decide(
        MatchRow(name="天津市大通建筑工程有限责任公司 "),
        [cand("天津市大通建筑工程有限公司"), cand("天津市大通建筑工程股份有限公司", uscc=B)],
    )
    assert decision == "possible" and "ambiguous" in flags and len(ranked) == 2
    decision, _, _ = decide(
        MatchRow(name="天津市大通建筑工程有限公司"),
        [cand("天津市大通建筑工程有限公司"), cand("天津市大通建筑工程股份有限公司", uscc=B)],
    )
    assert decision == "match"  # written exactly as one of them
