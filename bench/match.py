"""Benchmark: batch matching (`api.matching.Matcher`, what `POST /api/v1/agency/match` and
`gongshi match` run) against N entities on Elasticsearch (or SQLite with `--engine sqlite`).

The register is bench/rebuild's synthetic one (template entities from the data generator, entity
i = template i % K with a USCC and three trade characters of its own), written by the
`entities` projection's own writes. Then, on rows sampled from it:

1. rows with a USCC (exact) — rows/s; and rows with a valid USCC the register does not hold
   (another province's), whose codes one character off are looked up too — rows/s;
2. name-only rows, written as lists write them (exact; traditional; another legal form; the
   place prefix dropped; a typo with the legal representative; pinyin) — rows/s, and the
   precision of `match` and the recall of `match`+`possible` against the known answer (the
   register is larger and denser than the relevance set's: more near names, more ambiguity);
3. the API end to end: a raw `text/csv` body of `--api-rows` name rows streamed through
   `POST /api/v1/agency/match` (in-process ASGI, NDJSON answer) — rows/s and the process's
   peak RSS before and after, to show memory does not grow with the list.

    .venv/bin/python bench/match.py --entities 100000 --rows 2000 --api-rows 100000
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import opencc

from adapters.search_index.base import SearchIndex
from adapters.search_index.elasticsearch import ElasticsearchIndex
from adapters.search_index.sqlite import SQLiteSearchIndex
from api.matching import Matcher
from bench.rebuild import TODAY, batches, synthetic_uscc, templates
from domain.names import full_pinyin
from domain.names.matching import MatchRow
from domain.uscc import make_uscc

S2T = opencc.OpenCC("s2t")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(index: SearchIndex, pool: list, n: int, batch: int) -> float:
    started = time.perf_counter()
    for i, entities in enumerate(batches(pool, 0, n, batch, "entities")):
        index.write("entities", entities, i + 1)
        if (i + 1) * batch % 50_000 == 0:
            print(f"  filled {(i + 1) * batch:,} in {time.perf_counter() - started:.0f} s", flush=True)
    return time.perf_counter() - started


def variants(docs: list[dict], rng: random.Random) -> list[tuple[str, MatchRow, str]]:
    """(kind, row, expected uscc) for name-only rows."""
    out = []
    kinds = ("exact", "traditional", "legal_form", "place", "typo_rep", "pinyin")
    for i, doc in enumerate(docs):
        name, uscc = doc["name"], doc["uscc"]
        rep = (doc["registration"].get("legal_representative") or {}).get("name")
        kind = kinds[i % len(kinds)]
        if kind == "exact":
            row = MatchRow(name=name)
        elif kind == "traditional":
            row = MatchRow(name=S2T.convert(name))
        elif kind == "legal_form":
            row = MatchRow(
                name=name.replace("有限责任公司", "有限公司")
                if "有限责任公司" in name
                else name.replace("有限公司", "有限责任公司")
            )
        elif kind == "place":
            dropped = name.removeprefix("天津市").removeprefix("天津")
            row = MatchRow(name=dropped, address=doc["registration"].get("address"))
        elif kind == "typo_rep":
            j = rng.randrange(2, max(3, len(name) - 4))
            row = MatchRow(name=name[:j] + "錯" + name[j + 1 :], legal_representative=rep)
        else:
            row = MatchRow(name=full_pinyin(name))
        out.append((kind, row, uscc))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--templates", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--rows", type=int, default=2000, help="rows of each kind measured")
    parser.add_argument("--api-rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200, help="rows per candidate lookup")
    parser.add_argument("--engine", choices=("elasticsearch", "sqlite"), default="elasticsearch")
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--prefix", default="bench-match")
    parser.add_argument("--keep", action="store_true", help="keep the index (and reuse it next time)")
    args = parser.parse_args()
    n = args.entities
    rng = random.Random(args.seed)

    started = time.perf_counter()
    pool = templates(args.templates, args.seed)
    print(f"templates: {len(pool)} in {time.perf_counter() - started:.1f} s")
    index: SearchIndex
    data_dir = Path(tempfile.mkdtemp(prefix="bench-match-"))
    if args.engine == "elasticsearch":
        index = ElasticsearchIndex(args.url, prefix=args.prefix, request_timeout=120)
        if not (args.keep and index.count() == n):
            index.indices.delete_all()
            print(f"fill: {n:,} entities in {fill(index, pool, n, 1000):.0f} s")
            index._client.indices.refresh(index=f"{args.prefix}-*")
    else:
        index = SQLiteSearchIndex(data_dir / "search.sqlite3")
        print(f"fill: {n:,} entities in {fill(index, pool, n, 1000):.0f} s")

    sample = sorted(rng.sample(range(n), min(n, args.rows * 2)))
    chosen = [synthetic_uscc(pool[i % len(pool)].uscc, i) for i in sample]
    docs = [d for d in (index.get_public(u) for u in chosen) if d]
    matcher = Matcher(index, TODAY, batch=args.batch)

    uscc_rows = [MatchRow(uscc=d["uscc"]) for d in docs[: args.rows]]
    started = time.perf_counter()
    decided = Counter(r.decision for r in matcher.match(uscc_rows))
    took = time.perf_counter() - started
    rate = len(uscc_rows) / took
    print(f"USCC rows: {len(uscc_rows):,} in {took:.2f} s = {rate:,.0f} rows/s; {dict(decided)}")

    # valid codes of another province: not on the register, so their neighbours are looked up too
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    absent = [
        MatchRow(uscc=make_uscc("330106", "".join(rng.choice(alphabet) for _ in range(8))).value)
        for _ in range(args.rows)
    ]
    started = time.perf_counter()
    decided = Counter(r.decision for r in matcher.match(absent))
    took = time.perf_counter() - started
    print(
        f"USCC rows not on the register: {len(absent):,} in {took:.2f} s = "
        f"{len(absent) / took:,.0f} rows/s; {dict(decided)}"
    )

    named = variants(docs[: args.rows], rng)
    started = time.perf_counter()
    results = list(matcher.match([row for _, row, _ in named]))
    took = time.perf_counter() - started
    print(f"name-only rows: {len(named):,} in {took:.2f} s = {len(named) / took:,.0f} rows/s")
    per_kind: dict[str, Counter] = {}
    matches = correct_matches = found = 0
    for (kind, _, expected), result in zip(named, results, strict=True):
        top = [m.candidate.uscc for m in result.candidates]
        per_kind.setdefault(kind, Counter())[result.decision] += 1
        if result.decision == "match":
            matches += 1
            correct_matches += top[0] == expected
        if (result.decision == "match" and top[0] == expected) or (
            result.decision == "possible" and expected in top
        ):
            found += 1
    precision, recall = correct_matches / max(matches, 1), found / len(named)
    print(f"  match precision {precision:.4f} ({matches} matches); recall of match+possible {recall:.4f}")
    for kind, counts in per_kind.items():
        print(f"  {kind}: {dict(counts)}")

    # the API end to end, streamed
    from fastapi.testclient import TestClient

    from api.app import create_app
    from domain.access import Role
    from infra.bootstrap import build
    from infra.settings import Settings

    settings = Settings(data_dir=data_dir, today=TODAY, rate_limit_keys="1000000/minute")
    container = build(settings)
    container.__dict__["index"] = index
    key = container.credentials.add(Role.AGENCY, "BENCH", scopes=("match",))
    lines = ["名称,法定代表人"]
    for i in range(args.api_rows):
        d = docs[i % len(docs)]
        lines.append(f"{d['name']},{(d['registration'].get('legal_representative') or {}).get('name', '')}")
    body = ("\n".join(lines) + "\n").encode()
    before = rss_mb()
    with TestClient(create_app(container, owns_container=False)) as client:
        started = time.perf_counter()
        with client.stream(
            "POST",
            "/api/v1/agency/match",
            content=body,
            headers={
                "Authorization": f"Bearer {key}",
                "X-Purpose": "bench%20match%20run",
                "Content-Type": "text/csv",
                "Accept": "application/x-ndjson",
            },
        ) as response:
            count = sum(1 for _ in response.iter_lines())
        took = time.perf_counter() - started
    print(
        f"API (text/csv in, NDJSON out): {count:,} rows in {took:.1f} s = {count / took:,.0f} rows/s; "
        f"peak RSS {before:.0f} MB before, {rss_mb():.0f} MB after (body {len(body) / 2**20:.1f} MB)"
    )
    if args.engine == "elasticsearch" and not args.keep:
        index.indices.delete_all()  # type: ignore[attr-defined]
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"command: .venv/bin/python bench/match.py --entities {n} --rows {args.rows} "
        f"--api-rows {args.api_rows} --engine {args.engine}"
    )


if __name__ == "__main__":
    main()
