"""What the open-data files hold, described once: the rows of the records file, the lines of the
delta files and the manifests. The writers take their columns from here, `make schemas` writes
their JSON Schema to docs/schemas/opendata/, and the data dictionary page (`/open-data`) shows
their fields with these descriptions.

An entities line is the public record (`projections.public_record.PublicRecord`): what
`GET /api/v1/entities/{uscc}` answers on the snapshot's date, without `as_of` (the manifest
states the date once).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.kinds import CATEGORIES, PUBLICATION_KINDS
from projections.public_record import PublicRecord

SCHEMA = "gongshi.opendata/1"

#: The files of a snapshot and of a delta, in the order the manifest lists them.
ENTITIES = "entities.jsonl.gz"
RECORDS = "records.csv.gz"
MANIFEST = "manifest.json"
DELTA_ENTITIES = "delta-entities.jsonl.gz"
DELTA_RECORDS = "delta-records.csv.gz"
DELTA_MANIFEST = "delta-manifest.json"
SNAPSHOT_FILES = (ENTITIES, RECORDS)
DELTA_FILES = (DELTA_ENTITIES, DELTA_RECORDS)
#: Every file a release directory may hold (what `/open-data/{date}/{file}` serves).
RELEASE_FILES = (MANIFEST, *SNAPSHOT_FILES, DELTA_MANIFEST, *DELTA_FILES)

#: The publication kind that publicises a record of each category: the first kind the table of
#: kinds lists for it (penalty → penalty.imposed, abnormal_removed → abnormal.removed).
KIND_OF_CATEGORY: dict[str, str] = {}
for _kind in PUBLICATION_KINDS:
    if _kind.category:
        KIND_OF_CATEGORY.setdefault(_kind.category, _kind.name)
CATEGORY_LABELS = {c.key: c.label for c in CATEGORIES}

Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class RecordRow(BaseModel):
    """A row of `records.csv.gz`: one publicised record (UTF-8, no BOM, a header row, `\\n` line
    ends, RFC 4180 quoting; an empty cell is a missing value). Rows are sorted by `uscc`,
    `category`, `record_id`, `publication_id`, which together identify a row."""

    model_config = ConfigDict(extra="forbid")

    uscc: str = Field(description="统一社会信用代码")
    entity_name: str = Field(description="主体名称（导出之日的名称）")
    category: str = Field(
        description="信息类别代码，如 penalty 行政处罚、licence 行政许可",
        json_schema_extra={"enum": [c.key for c in CATEGORIES]},
    )
    category_label: str = Field(description="信息类别名称")
    kind: str = Field(description="公示该信息的公示类型，如 penalty.imposed")
    record_id: str = Field(description="文书号或记录编号：处罚决定书文号、许可证编号、列入/移出决定书文号等")
    publication_id: str = Field(description="公示编号：部门公示该信息时所用的编号，在平台内唯一")
    department: str = Field(description="公示部门代码，如 TJ-AMR")
    department_name: str | None = Field(None, description="公示部门名称")
    title: str = Field(description="标题：违法行为、许可名称、列入或移出事由等")
    occurred_on: Day = Field(description="日期：处罚决定日期、许可日期、列入或移出日期等（YYYY-MM-DD）")
    public_until: Day | None = Field(
        None, description="公示截止日（不含当日）：行政处罚的公示期届满或信用修复之日；无期限则为空"
    )
    basis: str | None = Field(None, description="依据：所依据的法律法规条款，部门未提供则为空")


#: The columns of the records file, in order (the header row).
RECORD_COLUMNS: tuple[str, ...] = tuple(RecordRow.model_fields)

Op = Literal["upsert", "withdraw"]


class DeltaRecordRow(RecordRow):
    """A row of `delta-records.csv.gz`: `op` then the columns of `records.csv.gz`. `upsert`: the
    row is new or changed (replace the row with the same `uscc`, `category`, `record_id`,
    `publication_id`); `withdraw`: the row left public view (its publicity window ended, it was
    revoked or repaired) and is given as it was."""

    op: Op = Field(description="upsert 新增或更新；withdraw 撤下（移出公示）")


DELTA_RECORD_COLUMNS: tuple[str, ...] = ("op", *RECORD_COLUMNS)


class EntityDeltaLine(BaseModel):
    """A line of `delta-entities.jsonl.gz`: an entity whose public record is new or changed
    (`upsert`, with the whole new record) or no longer public (`withdraw`)."""

    model_config = ConfigDict(extra="forbid")

    op: Op = Field(description="upsert 新增或更新（entity 为新的完整记录）；withdraw 撤下")
    uscc: str = Field(description="统一社会信用代码")
    entity: PublicRecord | None = Field(
        None, description="新的完整公示记录（与 entities.jsonl.gz 的一行相同）；withdraw 时为空"
    )


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="文件名")
    media_type: str = Field(description="媒体类型（gzip 压缩文件为 application/gzip）")
    format: Literal["jsonl", "csv"] = Field(description="解压后的格式：jsonl 每行一个 JSON 对象；csv 带表头")
    bytes: int = Field(description="文件大小（字节，压缩后）")
    sha256: Sha256 = Field(description="文件（压缩后）的 SHA-256，下载后用它校验")
    content_sha256: Sha256 = Field(description="解压后内容的 SHA-256（与压缩程序版本无关）")
    items: int = Field(description="解压后的条数：JSON 行数或 CSV 数据行数（不含表头）")


class SnapshotCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entities: int = Field(description="市场主体数（entities.jsonl.gz 的行数）")
    records: int = Field(description="公示信息条数（records.csv.gz 的数据行数）")


class SnapshotRef(BaseModel):
    """The snapshot a delta starts from or leads to."""

    model_config = ConfigDict(extra="forbid")

    as_of: date = Field(description="该快照的公示日期")
    position: int | None = Field(description="该快照的事件位置")
    manifest_sha256: Sha256 = Field(description="该快照 manifest.json 的 SHA-256")
    counts: SnapshotCounts
    content_sha256: dict[str, Sha256] = Field(description="该快照各文件解压后内容的 SHA-256，按文件名")


class SnapshotManifest(BaseModel):
    """`manifest.json`: a snapshot of the public register as of a date."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["gongshi.opendata/1"] = Field(
        "gongshi.opendata/1", alias="schema", description="格式版本"
    )
    type: Literal["snapshot"] = Field("snapshot", description="snapshot 全量快照")
    as_of: date = Field(description="公示日期：各项信息是否公示、行政处罚是否在公示期内，均按此日期判断")
    position: int | None = Field(
        description="事件位置：快照反映的平台事件通知编号（公示主体投影已处理到的位置）；"
        "同一位置与同一日期的快照逐字节相同"
    )
    counts: SnapshotCounts
    files: list[FileEntry] = Field(description="快照的文件")


class DeltaCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entities_upserted: int = Field(description="新增或更新的市场主体数")
    entities_withdrawn: int = Field(description="撤下的市场主体数")
    records_upserted: int = Field(description="新增或更新的公示信息条数")
    records_withdrawn: int = Field(description="撤下的公示信息条数（公示期届满、撤销或信用修复）")


class DeltaManifest(BaseModel):
    """`delta-manifest.json`: what changed from one snapshot to the next."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["gongshi.opendata/1"] = Field(
        "gongshi.opendata/1", alias="schema", description="格式版本"
    )
    type: Literal["delta"] = Field("delta", description="delta 增量")
    from_: SnapshotRef = Field(alias="from", description="起点快照：增量应用于它")
    to: SnapshotRef = Field(description="终点快照：应用增量后得到它（内容与条数可据此核对）")
    counts: DeltaCounts
    files: list[FileEntry] = Field(description="增量的文件")


def manifest_json(manifest: SnapshotManifest | DeltaManifest) -> bytes:
    """The manifest's bytes as stored: fixed field order, two-space indent, UTF-8, a final
    newline (the same manifest gives the same bytes)."""
    return (manifest.model_dump_json(by_alias=True, indent=2) + "\n").encode()


def file_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each file's items and of the manifests, by file name under
    docs/schemas/opendata/."""
    entity = PublicRecord.model_json_schema()
    return {
        "entity.schema.json": entity,
        "record.schema.json": RecordRow.model_json_schema(),
        "delta-entity.schema.json": EntityDeltaLine.model_json_schema(),
        "delta-record.schema.json": DeltaRecordRow.model_json_schema(),
        "manifest.schema.json": SnapshotManifest.model_json_schema(by_alias=True),
        "delta-manifest.schema.json": DeltaManifest.model_json_schema(by_alias=True),
    }
