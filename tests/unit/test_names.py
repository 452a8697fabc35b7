"""Chinese names (domain.names): the word-cached pinyin converter gives pypinyin's own answers."""

from __future__ import annotations

from datetime import date

import pypinyin
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import names
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
