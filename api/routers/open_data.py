"""Open data: the list of released files with their manifests, and the files themselves.

`GET /api/v1/open-data` lists the releases (newest first), each with its snapshot manifest, its
delta manifest (from the previous release) and a link per file; `/open-data/{date}/{file}`
serves a file as stored (`api.stored_files`: `application/gzip`, never re-encoded, `ETag`,
`Range`). The data dictionary page is `/open-data` (`api.web.open_data`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from api.deps import OpenDataDep, OpenDataPolicyDep
from api.errors import ApiError
from api.schemas import ERROR_RESPONSES
from api.stored_files import StoredFileResponse
from opendata.models import DELTA_MANIFEST, MANIFEST, DeltaManifest, SnapshotManifest
from opendata.releases import Release

router = APIRouter(tags=["open data"])
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/gzip": {}, "application/json": {}},
        "description": "文件（原样，不再压缩编码）",
    },
    206: {"content": {"application/gzip": {}}, "description": "请求的字节范围（Content-Range）"},
    304: {"description": "未变化（If-None-Match 与 ETag 相同）"},
    404: {"content": _ERROR, "description": "没有该日期发布的该文件"},
    416: {"description": "请求的字节范围无法满足（Content-Range: bytes */大小）"},
    422: {"content": _ERROR, "description": "日期格式有误"},
}


class OpenDataFilePublic(BaseModel):
    name: str = Field(description="文件名")
    url: str = Field(description="下载地址（支持 Range 断点续传）")
    media_type: str
    bytes: int = Field(description="文件大小（字节）")
    sha256: str = Field(description="文件的 SHA-256（与响应头 ETag 相同）")


class OpenDataReleasePublic(BaseModel):
    date: dt.date = Field(description="发布日期（快照的公示日期）")
    snapshot: SnapshotManifest = Field(description="全量快照的 manifest.json")
    delta: DeltaManifest | None = Field(
        description="相对上一次发布的增量的 delta-manifest.json；首次发布为 null"
    )
    files: list[OpenDataFilePublic]


class OpenDataPublic(BaseModel):
    schedule: str = Field(description="更新时间")
    retention_days: int = Field(description="保留天数：更早的发布会被删除（最新一次始终保留）")
    licence: str = Field(description="许可协议")
    licence_url: str
    dictionary: str = Field(
        "/open-data", description="数据字典（各文件和字段的含义、公示与去标识化规则、使用示例）"
    )
    releases: list[OpenDataReleasePublic] = Field(description="各次发布，最新的在前")


def file_url(day: dt.date, name: str) -> str:
    return f"/open-data/{day.isoformat()}/{name}"


def release_files(release: Release) -> list[OpenDataFilePublic]:
    files = []
    for name in release.files():
        path = release.path / name
        if name in (MANIFEST, DELTA_MANIFEST):
            size, sha256, media = (
                path.stat().st_size,
                hashlib.sha256(path.read_bytes()).hexdigest(),
                "application/json",
            )
        else:
            manifest = release.delta if name.startswith("delta-") else release.snapshot
            assert manifest is not None
            entry = next(f for f in manifest.files if f.name == name)
            size, sha256, media = entry.bytes, entry.sha256, entry.media_type
        files.append(
            OpenDataFilePublic(
                name=name, url=file_url(release.day, name), media_type=media, bytes=size, sha256=sha256
            )
        )
    return files


@router.get(
    "/api/v1/open-data", response_model=OpenDataPublic, responses=ERROR_RESPONSES, summary="开放数据文件列表"
)
def list_open_data(releases: OpenDataDep, policy: OpenDataPolicyDep) -> OpenDataPublic:
    return OpenDataPublic(
        schedule=policy.text(),
        retention_days=policy.keep_days,
        licence=policy.licence,
        licence_url=policy.licence_url,
        releases=[
            OpenDataReleasePublic(date=r.day, snapshot=r.snapshot, delta=r.delta, files=release_files(r))
            for r in releases.all()
        ],
    )


@router.get(
    "/open-data/{day}/{name}",
    status_code=200,
    response_class=StoredFileResponse,
    responses=FILE_RESPONSES,
    summary="下载开放数据文件",
    operation_id="get_open_data_file",
)
@router.head(
    "/open-data/{day}/{name}",
    status_code=200,
    response_class=StoredFileResponse,
    include_in_schema=False,  # the headers of the GET: documented there
)
def get_open_data_file(
    request: Request,
    releases: OpenDataDep,
    day: Annotated[dt.date, Path(description="发布日期 YYYY-MM-DD")],
    name: Annotated[str, Path(max_length=64, description="文件名，如 entities.jsonl.gz")],
) -> StoredFileResponse:
    path = releases.file(day, name)
    release = releases.get(day) if path is not None else None
    if path is None or release is None:
        raise ApiError(404, "not_found", f"没有 {day.isoformat()} 发布的文件 {name}")
    described = [*release.snapshot.files, *(release.delta.files if release.delta else [])]
    stored = next((f for f in described if f.name == name), None)
    if stored is not None:
        etag, media_type = stored.sha256, stored.media_type
    else:  # a manifest
        etag, media_type = hashlib.sha256(path.read_bytes()).hexdigest(), "application/json"
    return StoredFileResponse(
        request, path, etag=etag, media_type=media_type, filename=f"gongshi-{day.isoformat()}-{name}"
    )
