"""The entity's timeline as an inline SVG drawn on the server.

Every dated event of the public record (registration and status changes, registration changes,
licences and filings, penalties with their publicity window, abnormal/serious list periods,
inspections, annual reports, disclosures, performance and other information) is placed on one
time axis, one lane per kind. Points carry a `<title>` (the browser's tooltip); periods are bars.
Each event is a link to its record (keyboard, touch and mouse alike), events of one lane on one
day are drawn side by side, and the line of today is labelled with its date.
The picture is `role="img"` with an `aria-label` summary; the page lists the same events as text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from api.web.present import REGISTRATION_FIELDS, SEVERITY_LABELS
from domain.kinds import SECTIONS


@dataclass(frozen=True, slots=True)
class Layout:
    """Geometry in SVG units: the wide picture for screens, the compact one for phones."""

    name: str
    width: int
    left: int
    right: int
    top: int
    lane: int
    axis: int
    max_ticks: int


WIDE = Layout("wide", 960, 112, 24, 30, 34, 34, 12)  # top: room for the label of today
COMPACT = Layout("compact", 400, 74, 14, 28, 30, 30, 5)


@dataclass(frozen=True, slots=True)
class Lane:
    key: str
    label: str
    colour: str
    shape: str  # circle | square | diamond | triangle


LANES: tuple[Lane, ...] = (
    Lane("registration", "登记", "#1f5fa8", "circle"),
    Lane("licence", "许可·备案", "#1b7f5a", "square"),
    Lane("penalty", "行政处罚", "#b3261e", "diamond"),
    Lane("abnormal", "经营异常", "#a15c00", "triangle"),
    Lane("serious", "严重失信", "#7a1f4d", "triangle"),
    Lane("inspection", "抽查检查", "#6a3fa0", "circle"),
    Lane("report", "年度报告", "#2d6b78", "square"),
    Lane("other", "其他", "#5b5b5b", "circle"),
)
_LANES = {lane.key: lane for lane in LANES}
#: The plain sections `events` places in lanes of their own; the others go to the "other" lane.
_DRAWN_ABOVE = frozenset({"filings", "inspections"})


@dataclass(frozen=True, slots=True)
class Event:
    """One dated event: a point, or a period when `until` is set (`open_ended` runs to today)."""

    on: date
    lane: str
    label: str
    detail: str
    anchor: str
    until: date | None = None
    open_ended: bool = False


def _d(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _change_summary(change: dict[str, Any]) -> str:
    fields = [
        REGISTRATION_FIELDS.get(c.get("field", ""), c.get("field", "")) for c in change.get("changes", [])
    ]
    return "、".join(f for f in fields if f) or "登记事项"


def events(view: dict[str, Any], today: date) -> list[Event]:
    """The public view's dated events, oldest first."""
    out: list[Event] = []
    add = out.append
    reg = view.get("registration") or {}
    established = _d(reg.get("established_on"))
    if established:
        add(Event(established, "registration", "成立", f"成立登记：{view.get('name', '')}", "basic"))
    for item in view.get("status_history", [])[1:]:
        on = _d(item.get("on"))
        if on:
            add(
                Event(
                    on,
                    "registration",
                    str(item.get("status")),
                    f"登记状态变为“{item.get('status')}”",
                    "basic",
                )
            )
    for change in view.get("changes", []):
        on = _d(change.get("occurred_on"))
        if on:
            add(Event(on, "registration", "变更", f"变更登记：{_change_summary(change)}", "changes"))
    for lic in view.get("licences", []):
        on = _d(lic.get("valid_from") or lic.get("occurred_on"))
        if on:
            detail = f"行政许可：{lic.get('licence_name')}（{lic.get('licence_no')}），{lic.get('status')}"
            add(Event(on, "licence", "许可", detail, "licences"))
    for filing in view.get("filings", []):
        on = _d(filing.get("occurred_on"))
        if on:
            add(Event(on, "licence", "备案", f"备案：{filing.get('filing_type')}", "filings"))
    for p in view.get("penalties", []):
        on = _d(p.get("decided_on"))
        if not on:
            continue
        pub = p.get("publicity") or {}
        until = _d(pub.get("repaired_on")) or _d(pub.get("ends_on"))
        severity = SEVERITY_LABELS.get(p.get("severity", ""), "")
        detail = f"行政处罚（{severity}）：{p.get('decision_no')}，{p.get('violation')}"
        if until:
            detail += f"；公示至 {until.isoformat()}"
        if pub.get("rule_set"):
            detail += f"（{pub['rule_set']}）"
        add(Event(on, "penalty", "处罚", detail, "penalties", until=until))
    for key, anchor, what in (
        ("abnormal_listings", "abnormal", "经营异常名录"),
        ("serious_listings", "serious", "严重违法失信名单"),
    ):
        for listing in view.get(key, []):
            on = _d(listing.get("listed_on"))
            if not on:
                continue
            removed = listing.get("removed") or None
            until = _d(removed.get("on")) if removed else None
            detail = f"列入{what}：{listing.get('reason')}"
            detail += f"；{until.isoformat()} 移出" if until else "；尚未移出"
            add(Event(on, anchor, "列入", detail, anchor, until=until or today, open_ended=until is None))
    for item in view.get("inspections", []):
        on = _d(item.get("inspected_on") or item.get("occurred_on"))
        if on:
            detail = f"{item.get('inspection_type')}：{item.get('result')}"
            add(Event(on, "inspection", "检查", detail, "inspections"))
    for report in view.get("annual_reports", []):
        on = _d(report.get("submitted_on") or report.get("occurred_on"))
        if on:
            add(Event(on, "report", "年报", f"报送 {report.get('year')} 年度报告", "reports"))
    for section in SECTIONS:  # every other plain section: a point in the "other" lane
        if section.plain and section.key not in _DRAWN_ABOVE and section.field:
            for item in view.get(section.field, []):
                on = _d(item.get("occurred_on"))
                if on:
                    detail = f"{section.label}：{item.get(section.title)}"
                    add(Event(on, "other", section.label, detail, section.key))
    out.sort(key=lambda e: (e.on, e.lane))
    return out


def _year_step(years: int, max_ticks: int) -> int:
    for step in (1, 2, 5, 10, 20):
        if years / step <= max_ticks:
            return step
    return 50


#: How far apart (px) the markers of one lane's events on the same day are drawn.
SAME_DAY_GAP = 12


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}"/>'
    if shape == "diamond":
        points = f"M{x:.1f} {y - 7:.1f}L{x + 7:.1f} {y:.1f}L{x:.1f} {y + 7:.1f}L{x - 7:.1f} {y:.1f}Z"
        return f'<path d="{points}" fill="{colour}"/>'
    if shape == "triangle":
        points = f"M{x:.1f} {y - 7:.1f}L{x + 7:.1f} {y + 6:.1f}L{x - 7:.1f} {y + 6:.1f}Z"
        return f'<path d="{points}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{colour}"/>'


def summary(evts: list[Event]) -> str:
    if not evts:
        return "时间轴：暂无可公示的事件"
    counts = Counter(_LANES[e.lane].label for e in evts)
    parts = "，".join(f"{label}{n}项" for label, n in counts.items())
    return f"时间轴：{evts[0].on.year}年至{evts[-1].on.year}年共{len(evts)}个事件（{parts}）"


def svg(view: dict[str, Any], today: date, layout: Layout = WIDE) -> Markup:
    """The timeline picture of a public view as of `today`."""
    evts = events(view, today)
    width, left, right, top, lane_h = layout.width, layout.left, layout.right, layout.top, layout.lane
    label = summary(evts)
    used = [lane for lane in LANES if any(e.lane == lane.key for e in evts)] or [LANES[0]]
    rows = {lane.key: i for i, lane in enumerate(used)}
    height = top + lane_h * len(used) + layout.axis
    first = min([e.on for e in evts], default=today)
    start = date(first.year, 1, 1)
    end = date(today.year + 1, 1, 1)
    span = max((end - start).days, 1)
    inner = width - left - right

    def x(d: date) -> float:
        return left + inner * min(max((d - start).days, 0), span) / span

    parts = [
        f'<svg class="timeline timeline-{layout.name}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="group" aria-label="{escape(label)}" '
        'preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(label)}</title>",
        "<desc>横轴为时间（年），每一行是一类公示事件；圆点、方块等标记为单个事件，横条为持续期间"
        "（行政处罚的公示期、列入名录的期间）。每个标记都是链接：用键盘（Tab 键）、鼠标或手指"
        "选中它，可查看日期和内容，并跳到该条记录。</desc>",
    ]
    axis_y = top + lane_h * len(used) + 4
    step = _year_step(end.year - start.year, layout.max_ticks)
    for year in range(start.year, end.year + 1):
        if (year - start.year) % step:
            continue
        tx = x(date(year, 1, 1))
        parts.append(
            f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{axis_y}" class="tl-grid"/>'
            f'<text x="{tx:.1f}" y="{axis_y + 18}" class="tl-year" text-anchor="middle">{year}</text>'
        )
    tx = x(today)
    anchor_end = tx > width - right - 40  # the label reads leftwards near the right edge
    parts.append(
        f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{axis_y}" class="tl-today">'
        f"<title>今天 {today.isoformat()}</title></line>"
        f'<text x="{tx + (-4 if anchor_end else 4):.1f}" y="{top - 12}" class="tl-today-label" '
        f'text-anchor="{"end" if anchor_end else "start"}">今天 {today.isoformat()}</text>'
    )
    for lane in used:
        y = top + lane_h * rows[lane.key] + lane_h / 2
        parts.append(
            f'<text x="{left - 10}" y="{y + 5:.1f}" class="tl-lane" text-anchor="end">'
            f"{escape(lane.label)}</text>"
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="tl-rule"/>'
        )
    same_day: dict[tuple[str, date], int] = {}
    for e in evts:
        same_day[(e.lane, e.on)] = same_day.get((e.lane, e.on), 0) + 1
    placed: dict[tuple[str, date], int] = {}
    for e in evts:
        lane = _LANES[e.lane]
        y = top + lane_h * rows[e.lane] + lane_h / 2
        tip = f"{e.on.isoformat()} {e.detail}"
        # events of one lane on one day sit side by side, SAME_DAY_GAP apart, centred on the day
        nth, count = placed.get((e.lane, e.on), 0), same_day[(e.lane, e.on)]
        placed[(e.lane, e.on)] = nth + 1
        shift = (nth - (count - 1) / 2) * SAME_DAY_GAP
        # each marker is a link to its record: reachable by Tab, a tap or a click, named by its text
        parts.append(
            f'<a href="?tab={e.anchor}#{e.anchor}" class="tl-link" aria-label="{escape(tip)}">'
            f'<g class="tl-event tl-{lane.key}"><title>{escape(tip)}</title>'
        )
        if e.until and e.until > e.on:
            x1, x2 = x(e.on), x(min(e.until, end))
            dash = ' stroke-dasharray="4 3"' if e.open_ended else ""
            parts.append(
                f'<rect x="{x1:.1f}" y="{y - 4:.1f}" width="{max(x2 - x1, 2):.1f}" height="8" rx="3" '
                f'fill="{lane.colour}" fill-opacity="0.28" stroke="{lane.colour}"{dash}/>'
            )
        parts.append(_marker(lane.shape, x(e.on) + shift, y, lane.colour))
        parts.append("</g></a>")
    if not evts:
        parts.append(
            f'<text x="{left + inner / 2:.1f}" y="{top + lane_h / 2 + 5:.1f}" text-anchor="middle" '
            'class="tl-lane">暂无可公示的事件</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def swatch(shape: str, colour: str) -> str:
    """A lane's marker as a small SVG of its own, for the legend: the colour is an SVG attribute,
    so the page needs no inline style (the CSP allows none)."""
    return (
        '<svg class="swatch" viewBox="-8 -8 16 16" width="12" height="12" aria-hidden="true" '
        f'focusable="false">{_marker(shape, 0, 0, colour)}</svg>'
    )


def legend(evts: list[Event]) -> list[tuple[str, Markup]]:
    """(label, swatch SVG) of the lanes the picture draws, for the page's legend."""
    used = {e.lane for e in evts}
    return [(lane.label, Markup(swatch(lane.shape, lane.colour))) for lane in LANES if lane.key in used]
