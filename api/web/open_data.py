"""The open-data page `/open-data`: the data dictionary.

Everything the page says about the files comes from what writes them: the file names and the
manifests' fields from `opendata.models`, an entity line's fields from
`projections.public_record.PublicRecord` (the API's record) and the table of kinds, the record
categories from `domain.kinds`, the masking examples from `domain.masking` itself, the rule sets
from `domain.publicity`, the schedule and licence from the settings. `tests/e2e/test_open_data.py`
checks every field of every model appears, and runs the example scripts shown here against real
files.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from api.deps import OpenDataDep, OpenDataPolicyDep, PublicUrlDep
from api.web.rendering import render
from domain.kinds import CATEGORIES, PUBLICATION_KINDS, SECTIONS
from domain.masking import mask_address, mask_id_number, mask_phone
from domain.publicity import RULE_SETS
from opendata.models import (
    DELTA_ENTITIES,
    DELTA_MANIFEST,
    DELTA_RECORDS,
    ENTITIES,
    KIND_OF_CATEGORY,
    MANIFEST,
    RECORDS,
    DeltaCounts,
    DeltaManifest,
    DeltaRecordRow,
    EntityDeltaLine,
    FileEntry,
    RecordRow,
    SnapshotCounts,
    SnapshotManifest,
    SnapshotRef,
)
from projections.public_record import PublicRecord

router = APIRouter(include_in_schema=False)

#: What each file is, in the order of a release.
FILES: tuple[tuple[str, str, str, str], ...] = (
    (MANIFEST, "JSON", "快照清单：公示日期、事件位置、条数，以及各文件的大小和 SHA-256", "manifest"),
    (
        ENTITIES,
        "gzip 压缩的 JSON Lines",
        "每个市场主体一行：该日的完整公示记录，按统一社会信用代码排序",
        "entity",
    ),
    (
        RECORDS,
        "gzip 压缩的 CSV（UTF-8，带表头）",
        "每条公示信息一行：部门、类别、文号、日期、依据等",
        "record",
    ),
    (DELTA_MANIFEST, "JSON", "增量清单：起点与终点快照、变化条数、各文件的 SHA-256", "delta-manifest"),
    (
        DELTA_ENTITIES,
        "gzip 压缩的 JSON Lines",
        "相对上一次发布新增、变化（upsert）或撤下（withdraw）的市场主体",
        "delta-entity",
    ),
    (
        DELTA_RECORDS,
        "gzip 压缩的 CSV（UTF-8，带表头）",
        "相对上一次发布新增、变化（upsert）或撤下（withdraw）的公示信息",
        "delta-record",
    ),
)

#: What every item of a section carries besides its own fields (`domain.entity.EVENT_FIELDS`).
ITEM_META = {
    "department": "公示部门代码",
    "publication_id": "公示编号",
    "occurred_on": "发生日期",
    "basis": "依据",
}

#: A standalone script (Python 3, standard library only) that applies a delta — shown on the
#: page and run by the tests against real files.
EXAMPLE_APPLY = '''\
"""python3 apply_delta.py 快照目录 增量目录 输出目录 —— 只用 Python 标准库"""
import csv, gzip, hashlib, json, os, sys

base, delta, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
to = json.load(open(os.path.join(delta, "delta-manifest.json"), encoding="utf-8"))["to"]


def merge(old_items, changes, key, write):
    """old_items 已按 key 排序；changes：key → (op, 新内容)"""
    pending = sorted(changes)
    i = 0
    for item in old_items:
        k = key(item)
        while i < len(pending) and pending[i] < k:  # 新增的排在它前面
            op, new = changes[pending[i]]
            if op == "upsert":
                write(new)
            i += 1
        if i < len(pending) and pending[i] == k:  # 更新或撤下
            op, new = changes[pending[i]]
            if op == "upsert":
                write(new)
            i += 1
            continue
        write(item)
    for k in pending[i:]:
        op, new = changes[k]
        if op == "upsert":
            write(new)


def check(path, name):
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    print(name, "ok" if digest == to["content_sha256"][name] else "与增量清单不符！")


# 市场主体：每行一个 JSON 对象（键排序、无空格）
changes = {}
with gzip.open(os.path.join(delta, "delta-entities.jsonl.gz"), "rt", encoding="utf-8") as f:
    for line in f:
        c = json.loads(line)
        changes[c["uscc"]] = (c["op"], c.get("entity"))
path = os.path.join(out, "entities.jsonl")
with gzip.open(os.path.join(base, "entities.jsonl.gz"), "rt", encoding="utf-8") as old, open(
    path, "w", encoding="utf-8", newline="\\n"
) as new:

    def dump(entity):
        new.write(json.dumps(entity, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\\n")

    merge((json.loads(line) for line in old), changes, lambda e: e["uscc"], dump)
check(path, "entities.jsonl.gz")

# 公示信息：CSV，一行由 统一社会信用代码、类别、文号、公示编号 确定
KEY = lambda row: (row[0], row[2], row[5], row[6])
changes = {}
with gzip.open(os.path.join(delta, "delta-records.csv.gz"), "rt", encoding="utf-8", newline="") as f:
    rows = csv.reader(f)
    next(rows)  # 表头：op + 快照的列
    for row in rows:
        changes[KEY(row[1:])] = (row[0], row[1:])
path = os.path.join(out, "records.csv")
with gzip.open(os.path.join(base, "records.csv.gz"), "rt", encoding="utf-8", newline="") as old, open(
    path, "w", encoding="utf-8", newline=""
) as new:
    rows, writer = csv.reader(old), csv.writer(new, lineterminator="\\n")
    writer.writerow(next(rows))
    merge(rows, changes, KEY, writer.writerow)
check(path, "records.csv.gz")
'''

#: Reading the records file, for the page (run by the tests too).
EXAMPLE_READ = """\
import csv, gzip
from collections import Counter

with gzip.open("records.csv.gz", "rt", encoding="utf-8", newline="") as f:
    penalties = Counter(row["department_name"] for row in csv.DictReader(f) if row["category"] == "penalty")
for department, count in penalties.most_common(5):
    print(department, count)
"""


def _type(schema: dict[str, Any]) -> str:
    """A short type for a JSON Schema property."""
    if "anyOf" in schema:
        return " 或 ".join(_type(s) for s in schema["anyOf"])
    if "$ref" in schema:
        return "对象"
    kind = schema.get("type")
    if kind == "array":
        return "数组"
    if kind == "object":
        return "对象"
    if kind == "null":
        return "null"
    if schema.get("format") == "date":
        return "日期"
    return {"string": "文本", "integer": "整数", "boolean": "布尔"}.get(str(kind), str(kind))


def fields(model: type[BaseModel], *, by_alias: bool = True) -> list[dict[str, str]]:
    """Each field of `model`: its name in the file, type, whether it may be empty, meaning."""
    schema = model.model_json_schema(by_alias=by_alias)
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        enum = prop.get("enum") or prop.get("const")
        meaning = prop.get("description", "")
        if isinstance(enum, list) and len(enum) <= 12 and name != "category":
            meaning += f"（取值：{'、'.join(map(str, enum))}）"
        out.append(
            {
                "name": name,
                "type": _type(prop),
                "required": "是" if name in required else "否",
                "description": meaning,
            }
        )
    return out


def _section_items(field: str) -> list[str]:
    """The fields an item of a section may carry: the common ones and those of the payloads of
    the kinds that write the section."""
    section = next(s for s in SECTIONS if s.field == field)
    names: list[str] = list(ITEM_META)
    for kind in PUBLICATION_KINDS:
        if kind.section == section.key:
            names += [n for n in kind.payload.model_fields if n not in names]
    return names


@lru_cache(maxsize=1)
def dictionary() -> dict[str, Any]:
    sample_id, sample_mobile, sample_line, sample_home = (
        "120101198503141234",
        "13812345678",
        "022-23456789",
        "天津市和平区南京路100号3单元502室",
    )
    return {
        "files": FILES,
        "entity_fields": [f for f in fields(PublicRecord) if f["name"] not in {s.field for s in SECTIONS}],
        "sections": [
            {
                "field": s.field,
                "label": s.label,
                "kinds": [k.label for k in PUBLICATION_KINDS if k.section == s.key],
                "items": _section_items(s.field),
            }
            for s in SECTIONS
            if s.field
        ],
        "record_fields": fields(RecordRow),
        "categories": [{"key": c.key, "label": c.label, "kind": KIND_OF_CATEGORY[c.key]} for c in CATEGORIES],
        "delta_entity_fields": fields(EntityDeltaLine),
        "delta_record_fields": [f for f in fields(DeltaRecordRow) if f["name"] == "op"],
        "manifest_fields": fields(SnapshotManifest),
        "file_fields": fields(FileEntry),
        "snapshot_count_fields": fields(SnapshotCounts),
        "delta_manifest_fields": fields(DeltaManifest),
        "ref_fields": fields(SnapshotRef),
        "delta_count_fields": fields(DeltaCounts),
        "item_meta": ITEM_META,
        "masking": [
            ("身份证件号码", sample_id, mask_id_number(sample_id)),
            ("手机号码", sample_mobile, mask_phone(sample_mobile)),
            ("固定电话", sample_line, mask_phone(sample_line)),
            ("住址", sample_home, mask_address(sample_home)),
        ],
        "rule_sets": [
            {
                "name": r.name,
                "in_force_from": r.in_force_from.isoformat(),
                "scope": "市场监督管理部门公示的行政处罚"
                if r.scope == "market_supervision"
                else "其他部门公示的行政处罚",
                "counts_from": "公示之日" if r.counts_from == "publicity" else "处罚决定之日",
            }
            for r in RULE_SETS
        ],
        "example_apply": EXAMPLE_APPLY,
        "example_read": EXAMPLE_READ,
    }


@router.get("/open-data", response_class=HTMLResponse)
def open_data(
    request: Request, releases: OpenDataDep, policy: OpenDataPolicyDep, public_url: PublicUrlDep
) -> HTMLResponse:
    found = releases.all()
    latest = found[0] if found else None
    context = {
        "nav_active": "open-data",
        "title": "开放数据",
        "policy": policy,
        "releases": found,
        "latest": latest,
        "example_day": latest.day.isoformat() if latest else "2026-11-22",
        "base_url": public_url,
        **dictionary(),
    }
    return render(request, "open_data.html", context)
