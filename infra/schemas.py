"""Generates the committed JSON Schema of the publication envelope and its payloads, of the
open-data files' lines, rows and manifests (docs/schemas/opendata/), the
AsyncAPI document of the publication topics (docs/asyncapi.yaml), and in the event catalogue
(docs/EVENTS.md) the table of publication kinds (between its `kinds` markers) and the table of
reason codes (infra/reasons.py).

`python -m infra.schemas --write` rewrites them; a test checks the files are current.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from domain.kinds import PAYLOADS, PUBLICATION_KINDS
from domain.publications import envelope_json_schema
from infra import asyncapi, reasons
from opendata.models import file_schemas
from projections.changes import change_json_schema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"
#: Relative to SCHEMA_DIR: the AsyncAPI document lives at docs/asyncapi.yaml.
ASYNCAPI_FILE = "../asyncapi.yaml"
#: Relative to SCHEMA_DIR: the event catalogue, whose table of kinds is generated.
EVENTS_FILE = "../EVENTS.md"
KINDS_BEGIN = "<!-- kinds: generated from domain/kinds.py by `make schemas` -->\n"
KINDS_END = "<!-- /kinds -->\n"


def kinds_table() -> str:
    """The event catalogue's table of publication kinds, one row per kind of `domain.kinds`."""
    rows = [
        "| publication kind | label | command | event | section | record category | department types |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in PUBLICATION_KINDS:
        command = (
            "`MarketEntity.register`"
            if kind.creates
            else f"`{kind.command.__name__}`"
            if kind.command
            else "—"
        )
        rows.append(
            f"| `{kind.name}` | {kind.label} | {command} | "
            + " / ".join(f"`{e.__name__}`" for e in kind.events)
            + f" | {kind.section or '—'} | {kind.category or '—'} | "
            + ", ".join(t.value for t in sorted(kind.publishers))
            + " |"
        )
    return "\n".join(rows) + "\n"


def events_catalogue(current: str) -> str:
    """`current` (docs/EVENTS.md) with the text between the kinds markers regenerated."""
    head, begin, rest = current.partition(KINDS_BEGIN)
    _, end, tail = rest.partition(KINDS_END)
    if not begin or not end:
        raise ValueError(f"{EVENTS_FILE} lacks the markers {KINDS_BEGIN.strip()} … {KINDS_END.strip()}")
    return head + KINDS_BEGIN + kinds_table() + KINDS_END + tail


def rendered() -> dict[str, str]:
    """File name → exact file text."""
    files: dict[str, Any] = {
        "publication.schema.json": envelope_json_schema(PAYLOADS),
        "change.schema.json": change_json_schema(),  # gongshi.change/2 (projections/changes.py)
    }
    for kind, model in PAYLOADS.items():
        files[f"payloads/{kind}.schema.json"] = model.model_json_schema()
    for name, schema in file_schemas().items():  # the open-data files (opendata/models.py)
        files[f"opendata/{name}"] = schema
    texts = {
        name: json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        for name, schema in files.items()
    }
    texts[ASYNCAPI_FILE] = asyncapi.render()
    texts[EVENTS_FILE] = reasons.render(
        events_catalogue((SCHEMA_DIR / EVENTS_FILE).read_text(encoding="utf-8"))
    )
    return texts


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    written = []
    for name, text in rendered().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path.resolve())
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--write", action="store_true", help="rewrite docs/schemas/, docs/asyncapi.yaml, docs/EVENTS.md"
    )
    args = parser.parse_args()
    if args.write:
        for path in write():
            print(path)
    else:
        stale = [
            n
            for n, t in rendered().items()
            if not (SCHEMA_DIR / n).exists() or (SCHEMA_DIR / n).read_text(encoding="utf-8") != t
        ]
        print("stale: " + ", ".join(stale) if stale else "schemas are current")
        raise SystemExit(1 if stale else 0)


if __name__ == "__main__":
    main()
