"""The ranking tiers are one table (`adapters.search_index.ranking.TIERS`) that both engines read:
Elasticsearch's boosts and SQLite's CASE are built from it, so a change to it changes both."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest

from adapters.search_index.elasticsearch.queries import TIER_CLAUSES, text_query
from adapters.search_index.ranking import TIERS, by_weight, reweighted
from adapters.search_index.sqlite.queries import SCORE, TIER_CONDITIONS, score_sql, text_params
from domain import names

# a query naming a legal form, so the core tiers take part too
QUERY = names.analyse("恒通科技有限责任公司")


def es_boosts(body: dict[str, Any]) -> list[float]:
    return [q["constant_score"]["boost"] for q in body["dis_max"]["queries"]]


def sql_weights(case: str) -> list[int]:
    return [int(w) for w in re.findall(r"(?:THEN|ELSE) (\d+)", case)]


def test_both_engines_say_how_each_tier_of_the_table_matches_and_nothing_else() -> None:
    tier_names = {t.name for t in TIERS}
    assert set(TIER_CLAUSES) == tier_names
    assert set(TIER_CONDITIONS) == tier_names


def test_the_elasticsearch_query_and_the_sqlite_case_carry_every_weight_of_the_table() -> None:
    assert set(es_boosts(text_query(QUERY))) == {float(t.weight) for t in TIERS}
    assert sql_weights(SCORE) == [t.weight for t in by_weight(TIERS)]  # heaviest first
    assert score_sql(TIERS) == SCORE


def test_changing_a_tier_in_the_table_changes_both_engines() -> None:
    changed = reweighted(TIERS, former_name=750, person=450)
    es = es_boosts(text_query(QUERY, changed))
    assert 750.0 in es and 450.0 in es and 600.0 not in es and 500.0 not in es
    assert es.count(750.0) == len(TIER_CLAUSES["former_name"](QUERY)) == 3
    case = score_sql(changed)
    assert sql_weights(case) == [900, 880, 860, 800, 750, 700, 450, 400, 100]
    former = TIER_CONDITIONS["former_name"]
    assert f"WHEN ({former}) THEN 750" in case
    assert case.index(former) < case.index(TIER_CONDITIONS["name_phrase"] or "")  # it now weighs more


def test_the_sqlite_case_scores_a_former_name_by_the_table(tmp_path: Any) -> None:
    """Run the generated CASE: the same row scores the former-name tier's weight, whatever it is."""
    c = sqlite3.connect(tmp_path / "t.sqlite3")
    columns = ("name", "name_canonical", "name_core", "former_names", "former_canonical", "former_core")
    c.execute(f"CREATE TABLE e ({', '.join(columns)}, person, pinyin)")
    c.execute(
        "INSERT INTO e VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "天津宏达物流有限公司",
            "天津宏达物流有限公司",
            "天津宏达物流",
            "天津恒通科技有限公司",
            "天津恒通科技有限公司",
            "天津恒通科技",
            "李明",
            "tianjinhongdawuliu",
        ),
    )
    params = text_params(QUERY)
    for tiers, expected in ((TIERS, 600), (reweighted(TIERS, former_name=750), 750)):
        (score,) = c.execute(f"SELECT {score_sql(tiers)} FROM e AS e", params).fetchone()
        assert score == expected


def test_the_tier_that_any_candidate_matches_must_weigh_least() -> None:
    with pytest.raises(ValueError, match="lightest"):
        score_sql(reweighted(TIERS, other=950))
    with pytest.raises(ValueError, match="no such tier"):
        reweighted(TIERS, fame=1)
