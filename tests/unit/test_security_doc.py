"""docs/SECURITY.md shows the matrix as api/access.py states it."""

from __future__ import annotations

from api.access import DOC, MATRIX, current_doc


def test_the_documented_matrix_is_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert current_doc(text) == text, "docs/SECURITY.md is out of date: run `make schemas`"
    for row in MATRIX:
        assert f"`{row.path}" in text, row.path
