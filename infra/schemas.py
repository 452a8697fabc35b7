"""Generates the committed JSON Schema of the publication envelope and its payloads, the
AsyncAPI document of the publication topics (docs/asyncapi.yaml) and the table of reason codes
in docs/EVENTS.md (infra/reasons.py).

`python -m infra.schemas --write` rewrites them; a test checks the files are current.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from domain.publications import PAYLOADS, envelope_json_schema
from infra import asyncapi, reasons

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"
#: Relative to SCHEMA_DIR: the AsyncAPI document lives at docs/asyncapi.yaml.
ASYNCAPI_FILE = "../asyncapi.yaml"
#: Relative to SCHEMA_DIR: docs/EVENTS.md, whose reason-code table is generated.
EVENTS_FILE = "../EVENTS.md"


def rendered() -> dict[str, str]:
    """File name → exact file text."""
    files: dict[str, Any] = {"publication.schema.json": envelope_json_schema()}
    for kind, model in PAYLOADS.items():
        files[f"payloads/{kind}.schema.json"] = model.model_json_schema()
    texts = {
        name: json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        for name, schema in files.items()
    }
    texts[ASYNCAPI_FILE] = asyncapi.render()
    texts[EVENTS_FILE] = reasons.rendered()
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
