"""The rules of an agency's access: the stated purpose and officer as headers carry them
(percent-encoded UTF-8), and when an enterprise sees a read of its record."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.agency_access import (
    HeaderTextError,
    decode_header_text,
    is_confidential,
    purpose_problem,
    visible_from,
    visible_to_enterprise,
)

printable = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf")), min_size=1, max_size=60
)


@given(printable)
def test_any_text_percent_encoded_decodes_to_itself_whitespace_collapsed(value: str) -> None:
    decoded = decode_header_text(quote(value, safe=""))
    expected = " ".join(value.split()) or None
    assert decoded == expected


def test_raw_utf8_bytes_read_as_latin1_are_understood() -> None:
    assert decode_header_text("稽查处".encode().decode("latin-1")) == "稽查处"


@pytest.mark.parametrize("raw", ["%FF%FE", "%E7%A8", "%00abc"])
def test_bytes_that_are_not_utf8_text_are_refused(raw: str) -> None:
    with pytest.raises(HeaderTextError):
        decode_header_text(raw)


def test_a_lone_percent_stands_for_itself() -> None:
    assert decode_header_text("100%") == "100%"
    assert decode_header_text("%4") == "%4"


def test_a_purpose_needs_four_characters_once_decoded() -> None:
    assert purpose_problem(None) is not None
    assert purpose_problem("审查") is not None
    assert purpose_problem("许可审查") is None
    assert purpose_problem("x" * 501) is not None
    assert purpose_problem(decode_header_text("%E8%AE%B8%E5%8F%AF%E5%AE%A1%E6%9F%A5")) is None


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), ("yes", True), ("0", False), (None, False)]
)
def test_confidential_header(raw: str | None, expected: bool) -> None:
    assert is_confidential(raw) is expected


def test_a_confidential_read_is_visible_after_the_delay_and_a_plain_one_at_once() -> None:
    read = date(2026, 1, 10)
    assert visible_from(read, False, 180) == read
    assert visible_from(read, True, 180) == read + timedelta(days=180)
    assert not visible_to_enterprise(read, True, read + timedelta(days=179), 180)
    assert visible_to_enterprise(read, True, read + timedelta(days=180), 180)
    assert visible_to_enterprise(read, False, read, 180)
