"""bench/load_real.py's arithmetic: the rates, the extrapolation, the lag table and the command it
prints compute what the report says they do (the run itself needs the engines: docs/BENCHMARKS.md)."""

from __future__ import annotations

import math

import pytest

from bench.load_real import (
    Sample,
    build_parser,
    command_line,
    extrapolate,
    lag_table,
    overall_rate,
    projection_groups,
    recent_rate,
    series,
    steady_rate,
)
from infra.bootstrap import FOLLOWER_NAMES


def samples() -> list[Sample]:
    # applied goes 0 → 1,000 in 10 s after a 5 s start-up; `entities` follows 5 s behind the head
    rows = []
    for t in range(0, 25, 5):
        applied = min(1000, max(0, (t - 5) * 100))
        rows.append(Sample(float(t), 1000, applied, applied, {"entities": max(0, applied - 500)}))
    return rows


def test_overall_rate_runs_from_the_last_sample_at_zero_to_the_first_at_the_final_count() -> None:
    rate, seconds = overall_rate(series(samples(), "applied"))
    assert seconds == 10.0  # 5 s (still 0) → 15 s (1,000)
    assert rate == 100.0


def test_steady_rate_leaves_out_start_up_and_tail() -> None:
    points = [(0.0, 0), (10.0, 0), (20.0, 100), (30.0, 500), (40.0, 900), (50.0, 990), (90.0, 1000)]
    assert steady_rate(points) == (900 - 100) / (40 - 20)


def test_a_stage_that_did_nothing_has_no_rate() -> None:
    assert overall_rate([(0.0, 0), (5.0, 0)]) == (0.0, 0.0)
    assert steady_rate([(0.0, 0)]) == 0.0
    assert math.isinf(extrapolate(100, 0, 0.0))


def test_extrapolation_scales_the_count_linearly_by_entities() -> None:
    # 12,000 publications for 1,000 entities → 12,000,000 for 1,000,000, at 4,000/s: 3,000 s
    assert extrapolate(1000, 12_000, 4000.0) == 3000.0
    assert extrapolate(1000, 12_000, 4000.0, target=2000) == 6.0


def test_lag_table_shows_position_and_lag_thinned_evenly_from_first_to_last_sample() -> None:
    lines = lag_table(samples(), ["entities"], max_rows=3)
    assert lines[0] == "| elapsed s | published | applied | head | entities pos (lag) |"
    assert lines[2:] == [
        "| 0 | 1,000 | 0 | 0 | 0 (0) |",
        "| 10 | 1,000 | 500 | 500 | 0 (500) |",
        "| 20 | 1,000 | 1,000 | 1,000 | 500 (500) |",
    ]
    assert len(lag_table(samples(), ["entities"])) == 2 + 5  # fewer samples than rows: all of them


def test_the_printed_command_holds_the_flags_that_differ_from_their_defaults() -> None:
    parser = build_parser()
    args = parser.parse_args(["--entities", "2000", "--workers", "2", "--sample-every", "2", "--keep"])
    assert command_line(parser, args) == (
        ".venv/bin/python bench/load_real.py --entities 2000 --workers 2 --sample-every 2 --keep"
    )


def test_a_stage_stopped_before_its_end_is_paced_by_its_last_quarter() -> None:
    # fast at first, then 10 per second over the last quarter of the samples
    points = [
        (0.0, 0),
        (10.0, 500),
        (20.0, 900),
        (30.0, 1000),
        (40.0, 1100),
        (50.0, 1200),
        (60.0, 1300),
        (70.0, 1400),
    ]
    assert recent_rate(points) == (1400 - 1300) / (70 - 60)
    assert recent_rate(points, share=0.5) == (1400 - 1100) / (70 - 40)
    assert recent_rate([(5.0, 10), (5.0, 10)]) == 0.0  # no time between the samples: no rate


def test_projection_processes_one_split_or_groups_of_the_followers() -> None:
    everything = list(FOLLOWER_NAMES)
    assert projection_groups("one") == [everything]
    assert projection_groups("split") == [everything[:3], everything[3:]]
    assert projection_groups("entities/records, sharing/publication_status,casework,changes") == [
        ["entities"],
        ["records", "sharing"],
        ["publication_status", "casework", "changes"],
    ]
    for wrong in ("entities", "entities/entities,records,sharing,publication_status,casework,changes", "x"):
        with pytest.raises(ValueError):
            projection_groups(wrong)
    args = build_parser().parse_args(["--entities", "200", "--projection-processes", "split"])
    assert args.projection_processes == "split"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--projection-processes", "entities"])
