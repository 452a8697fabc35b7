"""The one byte range a `Range` header asks of a stored file (api/stored_files.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.stored_files import Unsatisfiable, byte_range

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-499", (0, 499)),
        ("bytes=500-", (500, 999)),
        ("bytes=-1", (999, 999)),
        ("bytes=-300", (700, 999)),
        ("bytes=-5000", (0, 999)),  # more than the file: all of it
        ("bytes=990-5000", (990, 999)),  # an end past the file is cut to it
        (" bytes = 10 - 20 ", (10, 20)),
        ("BYTES=1-2", (1, 2)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole file
        ("items=0-5", None),  # another unit: ignored
    ],
)
def test_a_range_header_names_one_part_of_the_file_or_the_whole_of_it(
    header: str | None, expected: tuple[int, int] | None
) -> None:
    assert byte_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1000-",
        "bytes=1000-1001",
        "bytes=20-10",
        "bytes=-0",
        "bytes=-",
        "bytes=a-b",
        "bytes=",
        "bytes=1-2-3",
    ],
)
def test_a_range_that_cannot_be_served_is_unsatisfiable(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        byte_range(header, SIZE)


def test_nothing_of_an_empty_file_can_be_asked_for() -> None:
    with pytest.raises(Unsatisfiable):
        byte_range("bytes=0-", 0)
    with pytest.raises(Unsatisfiable):
        byte_range("bytes=-10", 0)


@given(size=st.integers(1, 10**9), first=st.integers(0, 2 * 10**9), length=st.integers(0, 10**9))
def test_a_satisfiable_range_lies_within_the_file_and_starts_where_asked(
    size: int, first: int, length: int
) -> None:
    header = f"bytes={first}-{first + length}"
    if first >= size:
        with pytest.raises(Unsatisfiable):
            byte_range(header, size)
        return
    start, end = byte_range(header, size) or (None, None)
    assert start == first and end == min(first + length, size - 1)
