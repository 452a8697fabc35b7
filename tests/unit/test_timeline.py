"""The entity page's timeline picture: every event a link to its record (keyboard and touch reach
it), same-day events of a lane side by side, the line of today labelled."""

from __future__ import annotations

import re
from datetime import date

from api.web import timeline

TODAY = date(2026, 12, 1)


def a_view() -> dict[str, object]:
    return {
        "name": "天津滨海恒通科技有限公司",
        "registration": {"established_on": "2019-03-01"},
        "changes": [
            {"occurred_on": "2024-05-06", "changes": [{"field": "address", "before": "甲", "after": "乙"}]},
            {"occurred_on": "2024-05-06", "changes": [{"field": "name", "before": "丙", "after": "丁"}]},
        ],
        "filings": [{"occurred_on": "2025-01-02", "filing_type": "章程备案"}],
    }


def markers(picture: str) -> list[tuple[str, str]]:
    """(href, the marker's element) of each event."""
    return re.findall(
        r'<a href="([^"]+)" class="tl-link"[^>]*><g [^>]*><title>[^<]*</title>(.*?)</g></a>', picture
    )


def test_every_event_is_a_link_to_its_record_named_by_its_text() -> None:
    picture = str(timeline.svg(a_view(), TODAY))
    found = markers(picture)
    assert len(found) == len(timeline.events(a_view(), TODAY)) == 4
    assert [href for href, _ in found] == [
        "?tab=basic#basic",
        "?tab=changes#changes",
        "?tab=changes#changes",
        "?tab=filings#filings",
    ]
    assert 'aria-label="2025-01-02 备案：章程备案"' in picture
    assert 'role="group"' in picture and 'role="img"' not in picture  # the links are not hidden


def test_two_events_of_one_lane_on_one_day_are_drawn_apart() -> None:
    for layout in (timeline.WIDE, timeline.COMPACT):
        found = markers(str(timeline.svg(a_view(), TODAY, layout)))
        same_day = [m for href, m in found if href == "?tab=changes#changes"]
        xs = [float(re.search(r'(?:cx|x)="([\d.]+)"', m).group(1)) for m in same_day]  # type: ignore[union-attr]
        assert len(xs) == 2 and abs(xs[0] - xs[1]) >= timeline.SAME_DAY_GAP - 0.1


def test_the_line_of_today_is_labelled() -> None:
    picture = str(timeline.svg(a_view(), TODAY))
    assert re.search(r'<text [^>]*class="tl-today-label"[^>]*>今天 2026-12-01</text>', picture)
