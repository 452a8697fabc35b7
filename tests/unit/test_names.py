"""Chinese names (domain.names): the word-cached pinyin converter gives pypinyin's own answers;
traditional and full-width forms fold to one canonical form."""

from __future__ import annotations

from datetime import date

import pypinyin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import names
from domain.names import forms
from domain.names.query import clean
from infra.datagen.generator import generate

# polyphones whose reading depends on the word they are in (行 háng/xíng, 长 cháng/zhǎng, 重 chóng/zhòng)
POLYPHONES = [
    "重庆银行股份有限公司",
    "天津行知教育咨询有限公司",
    "银行行长",
    "长春长生",
    "重新重要",
    "朝阳区朝阳",
]


def test_generated_names_and_polyphones_read_as_pypinyin_reads_them() -> None:
    generated = [
        e["payload"]["name"]
        for e in generate(300, 11, date(2026, 11, 22))
        if e["kind"] == "registration.registered"
    ]
    for name in [*generated, *POLYPHONES, *POLYPHONES]:  # twice: the second time from the cache
        assert names.lazy_pinyin(name) == pypinyin.lazy_pinyin(name), name


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(list("天津市滨海新区和平行长重庆银科技有限公司ABC12（）() ")), max_size=16).map(
        "".join
    )
)
def test_any_mix_of_characters_reads_as_pypinyin_reads_it(name: str) -> None:
    assert names.lazy_pinyin(name) == pypinyin.lazy_pinyin(name)


@pytest.mark.parametrize(
    ("written", "simplified"),
    [
        ("天津濱海恆通科技有限責任公司", "天津滨海恒通科技有限公司"),
        ("香港匯豐銀行（天津）有限公司", "香港汇丰银行(天津)有限公司"),
        ("臺灣華碩電腦股份有限公司天津分公司", "台湾华硕电脑有限公司天津分公司"),
        ("天津市滨海新区恒通科技有限公司", "天津市滨海新区恒通科技有限公司"),  # simplified stays as it is
    ],
)
def test_traditional_and_full_width_names_have_the_simplified_canonical_form(
    written: str, simplified: str
) -> None:
    assert names.canonical(written) == names.canonical(simplified) == simplified


def test_a_traditional_query_is_marked_on_the_simplified_name() -> None:
    query = names.analyse("濱海恆通")
    assert names.highlight(query, ["天津滨海恒通科技有限公司"]) == "天津<em>滨海恒通</em>科技有限公司"


def test_a_phrase_converted_to_another_length_is_folded_one_character_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class PhraseChangesLength:  # as if OpenCC converted a phrase of the name to a longer one
        def convert(self, text: str) -> str:
            return text.replace("濱海", "滨海新区").replace("濱", "滨").replace("恆", "恒")

    monkeypatch.setattr(forms, "_T2S", PhraseChangesLength())
    assert names.simplified("天津濱海恆通") == "天津滨海恒通"  # same length: positions still line up


# --- a query as typed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ('"天津', "天津"),
        ("天津*", "天津"),
        ("＂天津＂", "天津"),
        ("“天津”有限公司", "天津 有限公司"),
        ("天津^2", "天津 2"),
        ("(天津", "天津"),
        ("天津()", "天津"),
        ("天津某某（集团）有限公司", "天津某某(集团)有限公司"),
        ("9112-0116－MA05", "91120116MA05"),
        ("ＢＩＮＨＡＩ　ｔｊ", "BINHAI tj"),
    ],
)
def test_a_query_loses_stray_punctuation_and_full_width_forms(typed: str, cleaned: str) -> None:
    assert clean(typed) == cleaned


@given(st.text(max_size=40))
def test_cleaning_a_query_twice_changes_nothing(text: str) -> None:
    assert clean(clean(text)) == clean(text)
    assert not set(clean(text)) & set('"*^“”')
