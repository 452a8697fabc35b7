"""Reading and writing the open-data files so that the same content gives the same bytes.

- gzip with a fixed header: modification time 0, no file name, compression level 6 (the
  compressed bytes then depend only on the content and on zlib's version; `content_sha256`, of
  the decompressed bytes, does not even depend on that);
- JSON lines in one canonical form: keys sorted at every level, no spaces, UTF-8 as is
  (orjson `OPT_SORT_KEYS`), one `\\n` after each;
- CSV as Python's `csv` writes it with `\\n` line ends (RFC 4180 quoting), UTF-8, no BOM;
- each file written under a temporary name and renamed into place when complete.

A reader checks the SHA-256 its manifest gives while it streams, and raises `CorruptFile` at the
end on a mismatch (or on an item count that differs).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import os
import queue
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

import orjson

from opendata.models import FileEntry

COMPRESS_LEVEL = 6
PARTIAL = ".partial"
MEDIA_TYPE = "application/gzip"


class CorruptFile(Exception):
    """A file does not match what its manifest says (SHA-256, size or count)."""


def canonical_json(value: Any) -> bytes:
    """One JSON line: keys sorted at every level, compact, UTF-8, ending in a newline."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def csv_line(values: Sequence[str | None]) -> bytes:
    """One CSV row (None → an empty cell), `\\n`-terminated."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buffer.getvalue().encode()


class _Hashing(io.RawIOBase):
    """A write-only file that hashes and counts what passes through to `target`."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.sha256.update(view)
        self.size += len(view)
        self.target.write(view)
        return len(view)


class GzipWriter:
    """A gzip file with a fixed header, written under `<name>.partial`: `finish()` ends the
    stream and describes it for the manifest, `commit()` renames it into place. Closed without
    `commit()` (an error, a cancelled export) it removes the partial file.

    Lines are gathered into 1 MiB chunks; a thread of the writer's own hashes and compresses
    them (zlib and hashlib release the GIL), so compression runs beside the caller's Python on a
    second core. At most `QUEUED` chunks wait for it. The bytes do not depend on the thread: the
    chunks are the same whatever the pace, and deflate's output does not depend on how its input
    is split when nothing is flushed in between."""

    BUFFER = 1 << 20
    QUEUED = 4

    def __init__(self, path: Path, fmt: Literal["jsonl", "csv"]) -> None:
        self.path = path
        self.format: Literal["jsonl", "csv"] = fmt
        self.partial = path.with_name(path.name + PARTIAL)
        self._file = open(self.partial, "wb")  # noqa: SIM115  (closed in commit() or close())
        self._hashing = _Hashing(self._file)
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._hashing, mtime=0, compresslevel=COMPRESS_LEVEL
        )
        self._pending = bytearray()
        self._content = hashlib.sha256()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(self.QUEUED)
        self._failure: BaseException | None = None
        self._compressor = threading.Thread(target=self._compress, name=f"gzip-{path.name}", daemon=True)
        self._compressor.start()
        self.items = 0
        self._entry: FileEntry | None = None
        self._done = False

    def _compress(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failure is None:
                try:
                    self._content.update(chunk)
                    self._gzip.write(chunk)
                except BaseException as err:  # reported to the caller at its next write
                    self._failure = err

    def _send(self, chunk: bytes | None) -> None:
        if self._failure is not None:
            raise self._failure
        self._chunks.put(chunk)

    def write(self, data: bytes, items: int = 1) -> None:
        self._pending += data
        self.items += items
        if len(self._pending) >= self.BUFFER:
            self._send(bytes(self._pending))
            self._pending.clear()

    def _stop_compressing(self) -> None:
        if self._compressor.is_alive():
            self._chunks.put(None)
            self._compressor.join()

    def finish(self) -> FileEntry:
        if self._entry is None:
            self._send(bytes(self._pending))
            self._pending.clear()
            self._stop_compressing()
            if self._failure is not None:
                raise self._failure
            self._gzip.close()  # the trailer
            self._file.flush()
            os.fsync(self._file.fileno())
            self._entry = FileEntry(
                name=self.path.name,
                media_type=MEDIA_TYPE,
                format=self.format,
                bytes=self._hashing.size,
                sha256=self._hashing.sha256.hexdigest(),
                content_sha256=self._content.hexdigest(),
                items=self.items,
            )
        return self._entry

    def commit(self) -> None:
        self.finish()
        self._file.close()
        os.replace(self.partial, self.path)
        self._done = True

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        self._stop_compressing()
        with contextlib.suppress(OSError, ValueError):
            self._gzip.close()
        self._file.close()
        self.partial.unlink(missing_ok=True)

    def __enter__(self) -> GzipWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + PARTIAL)
    with open(partial, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Checked(io.RawIOBase):
    """A read-only file that hashes and counts what is read from `source`."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.sha256.update(data)
        self.size += n
        return n


class CheckedReader:
    """The decompressed lines of a gzip file whose size and SHA-256 are first checked against
    `entry` (a damaged download is refused before anything is read from it); the content's
    SHA-256 and the item count are checked once the last line has been read. Any mismatch, and
    any gzip, UTF-8 or JSON error on the way, is a `CorruptFile`."""

    def __init__(self, path: Path, entry: FileEntry | None) -> None:
        self.path = path
        self.entry = entry
        if entry is not None and (path.stat().st_size, sha256_of(path)) != (entry.bytes, entry.sha256):
            raise CorruptFile(f"{path}: its size or SHA-256 differs from the manifest's")
        self._file = open(path, "rb")  # noqa: SIM115  (closed in close())
        self._checked = _Checked(self._file)
        self._gzip = gzip.GzipFile(fileobj=io.BufferedReader(self._checked, 1 << 20), mode="rb")
        self._content = hashlib.sha256()

    def lines(self) -> Iterator[bytes]:
        try:
            for line in self._gzip:
                self._content.update(line)
                yield line
        except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
            raise CorruptFile(f"{self.path}: {err}") from err

    def verify(self, items: int) -> None:
        """After the last line: the bytes read are the file the manifest describes."""
        self._checked.read()  # anything after the gzip stream counts too
        if self.entry is None:
            return
        found = (self._checked.size, self._checked.sha256.hexdigest(), self._content.hexdigest(), items)
        wanted = (self.entry.bytes, self.entry.sha256, self.entry.content_sha256, self.entry.items)
        if found != wanted:
            raise CorruptFile(
                f"{self.path} does not match its manifest: (bytes, sha256, content_sha256, items) "
                f"{found} != {wanted}"
            )

    def close(self) -> None:
        self._gzip.close()
        self._file.close()


def json_lines(reader: CheckedReader) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(line, parsed) for each line of a JSON-lines file; verified after the last one."""
    count = 0
    for line in reader.lines():
        count += 1
        try:
            parsed = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            raise CorruptFile(f"{reader.path}: line {count} is not JSON ({err})") from err
        yield line, parsed
    reader.verify(count)


def csv_rows(reader: CheckedReader, header: Sequence[str]) -> Iterator[list[str]]:
    """The data rows of a CSV file whose header must be `header`; verified after the last one.
    (Lines keep their `\\n`, so a quoted cell holding a line break spans lines as `csv` expects.)"""
    rows = csv.reader(_decoded(reader))
    first = next(rows, None)
    if first != list(header):
        raise CorruptFile(f"{reader.path}: the header is {first}, not {list(header)}")
    count = 0
    for row in rows:
        count += 1
        yield row
    reader.verify(count)


def _decoded(reader: CheckedReader) -> Iterator[str]:
    for line in reader.lines():
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as err:
            raise CorruptFile(f"{reader.path}: not UTF-8 ({err})") from err
