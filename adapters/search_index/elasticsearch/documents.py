"""The documents written to each index, and the bulk operations that write them.

Pure: from `IndexedEntity` values (and, for the records index, what is stored already) to
Elasticsearch documents and bulk operations. Every document carries the aggregate version as its
external version, so an older write never overwrites a newer one. The records index also holds
one manifest document per entity (`kind: entity`, id = USCC) listing the rows it wrote: the
rows an entity no longer has are deleted with the new version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.search_index import base
from adapters.search_index.base import IndexedEntity
from domain import names
from domain.persons import identity_numbers

#: Records-index documents that are not rows: the per-entity manifests.
NOT_A_MANIFEST: dict[str, Any] = {"bool": {"must_not": {"term": {"kind": "entity"}}}}

#: A manifest per entity: (its version, the ids of the rows it wrote), by USCC.
Manifests = dict[str, tuple[int, set[str]]]


def newest(entities: Sequence[IndexedEntity]) -> list[IndexedEntity]:
    """A batch may name an entity twice: keep its newest version."""
    latest: dict[str, IndexedEntity] = {}
    for entity in entities:
        if entity.uscc not in latest or latest[entity.uscc].version < entity.version:
            latest[entity.uscc] = entity
    return list(latest.values())


def entity_doc(e: IndexedEntity) -> dict[str, Any]:
    f, public = e.fields, e.public
    former = [n["name"] for n in public.get("former_names", [])]
    return {
        "uscc": e.uscc,
        "codes": [c.upper() for c in f["codes"].split()],
        "name": f["name"],
        "name_length": len(f["name"]),
        "former_names": former,
        "person": f["person"] or None,
        "pinyin": _pinyin_words(f["pinyin"], [f["name"], *former]),
        "name_canonical": f.get("name_canonical") or names.canonical(f["name"]),
        "name_core": f.get("name_core") or names.core(f["name"]),
        "former_canonical": (f.get("former_canonical") or "").split(),
        "former_core": (f.get("former_core") or "").split(),
        "grams": (f.get("grams") or "").split(),
        **{field.name: e.filters.get(field.name) for field in base.FILTER_FIELDS},
        "flags": list(e.flags),
        "flags_as_of": e.flags_as_of,
        "penalty_windows": [
            {"gte": start, **({"lt": end} if end else {})} for start, end in e.penalty_windows
        ],
        "version": e.version,
        "public": public,
    }


def _pinyin_words(pinyin: str, written: list[str]) -> list[str]:
    """The search fields' pinyin words, plus every syllable-aligned suffix of each name's full
    pinyin and initials, so a keyword prefix query finds `binhai` or `bhht` inside a name."""
    words = dict.fromkeys(pinyin.lower().split())
    words.update(dict.fromkeys(names.pinyin_suffixes(written)))
    return list(words)


def sharing_doc(e: IndexedEntity) -> dict[str, Any]:
    """The agency document, and the identity numbers of the persons it names in a role
    (`persons`: how agencies find a person's entities)."""
    return {
        "uscc": e.uscc,
        "version": e.version,
        "persons": identity_numbers(e.sharing),
        "sharing": e.sharing,
    }


def record_id(uscc: str, category: str, record: str) -> str:
    return f"{uscc}|{category}|{record}"


def manifest(e: IndexedEntity, record_ids: list[str]) -> dict[str, Any]:
    return {"kind": "entity", "uscc": e.uscc, "entity_version": e.version, "record_ids": record_ids}


def record_doc(row: dict[str, Any], version: int) -> dict[str, Any]:
    return {
        "kind": "row",
        "uscc": row["uscc"],
        "category": row["category"],
        "department": row.get("department"),
        "record_id": row["record_id"],
        "occurred_on": row["occurred_on"],
        "public_until": row.get("public_until"),
        "entity_version": version,
        "row": row,
    }


def operations(
    projection: str,
    entities: Sequence[IndexedEntity],
    index: str,
    *,
    manifests: Manifests | None = None,
    existing: dict[str, set[str]] | None = None,
) -> list[dict[str, Any]]:
    """Bulk operations writing `projection`'s documents of `entities` into `index`. For the
    records index, `manifests` and `existing` (row ids stored per entity) say what to delete;
    None: an index being rebuilt, which holds nothing older to compare with or delete."""
    if projection == "records":
        return _record_operations(entities, index, manifests or {}, existing or {})
    ops: list[dict[str, Any]] = []
    shape = entity_doc if projection == "entities" else sharing_doc
    for e in entities:
        meta = {"version": e.version, "version_type": "external"}
        ops += [{"index": {"_index": index, "_id": e.uscc, **meta}}, shape(e)]
    return ops


def _record_operations(
    entities: Sequence[IndexedEntity], index: str, manifests: Manifests, existing: dict[str, set[str]]
) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for e in entities:
        version, stored_ids = manifests.get(e.uscc, (None, set()))
        if version is not None and version > e.version:
            continue  # a newer version is stored: this write is late, leave it all alone
        row_ids = {record_id(e.uscc, r["category"], r["record_id"]): r for r in e.rows}
        meta = {"version": e.version, "version_type": "external"}
        ops += [{"index": {"_index": index, "_id": e.uscc, **meta}}, manifest(e, sorted(row_ids))]
        for doc_id, row in row_ids.items():
            ops += [{"index": {"_index": index, "_id": doc_id, **meta}}, record_doc(row, e.version)]
        for doc_id in sorted((stored_ids | existing.get(e.uscc, set())) - row_ids.keys()):
            ops.append({"delete": {"_index": index, "_id": doc_id, **meta}})
    return ops
