"""Page depth of every list and search, for the API and the pages alike.

A list serves its first `MAX_ROWS` rows (Elasticsearch's result window; the embedded index keeps
the same rule so both behave alike). A page past the last one is not an empty page ("no
results" would be a lie when there are results): the API answers 404 `page_out_of_range` with
the page count, the pages say the same in Chinese with a link to the last page.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.errors import Refusal

__all__ = ["MAX_ROWS", "PageDepth", "depth", "page_out_of_range", "probe_page"]

#: The deepest row a list or search serves.
MAX_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class PageDepth:
    page: int
    pages: int  # how many pages can be read (0 when there is nothing)
    total: int
    capped: bool  # more results exist than the pages reach

    @property
    def beyond(self) -> bool:
        """The page lies past the last one (page 1 of an empty list does not)."""
        return self.page > max(self.pages, 1)

    def message(self) -> str:
        if self.pages == 0:
            return f"第 {self.page} 页超出范围：没有符合条件的结果（共 0 页）"
        text = f"第 {self.page} 页超出范围：共 {self.pages} 页"
        if self.capped:
            text += f"（共 {self.total} 条结果，只提供前 {self.pages} 页，请缩小查询范围）"
        return text


def depth(page: int, total: int, size: int, max_pages: int | None = None) -> PageDepth:
    """How deep a list of `total` rows in pages of `size` can be read, and where `page` lies."""
    reachable = -(-min(total, MAX_ROWS) // size)
    pages = min(reachable, max_pages) if max_pages is not None else reachable
    return PageDepth(page, pages, total, capped=pages * size < total)


def probe_page(page: int, size: int) -> int:
    """The page to ask the index for: `page`, or 1 when `page` lies beyond any list's reach
    (only the total is needed then, and the index cannot serve rows that deep)."""
    return page if (page - 1) * size < MAX_ROWS else 1


def page_out_of_range(at: PageDepth) -> Refusal:
    """The API's refusal: 404 `page_out_of_range` with `pages` and `total`."""
    return Refusal("page_out_of_range", at.message(), pages=at.pages, total=at.total)
