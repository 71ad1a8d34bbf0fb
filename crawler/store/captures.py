"""The capture store: exact response bytes and headers kept as WARC records (ISO 28500, warcio).

Each writer appends gzip-member records to its own file (one per crawl process), so a record
can be read back alone from its offset and length. A record is trusted only once its location
and SHA-256 are indexed in the database, which happens after the bytes are flushed and synced:
a killed crawl may leave a torn tail in its file, but never an indexed half record. Reading back
verifies the SHA-256 and refuses any path that would leave the capture directory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.items import CaptureRef


class CaptureError(Exception):
    """A capture cannot be read back as it was written."""


@dataclass(slots=True)
class CapturedRecord:
    url: str
    record_type: str
    status: int | None
    http_headers: list[tuple[str, str]]
    payload: bytes
    warc_headers: list[tuple[str, str]]


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"kyran/{version('kyran')}"
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "kyran/dev"


class CaptureWriter:
    """Appends WARC records to one new file under the capture directory."""

    def __init__(self, root: Path, fsync: bool = True, prefix: str = "kyran") -> None:
        self.root = Path(root)
        self.fsync = fsync
        self.tool = tool_version()
        now = datetime.now(timezone.utc)
        name = f"{prefix}-{now:%Y%m%dT%H%M%S}-{os.getpid()}-{secrets.token_hex(3)}.warc.gz"
        self.relpath = f"{now:%Y/%m/%d}/{name}"
        self._file = None

    def _open(self):
        if self._file is None:
            path = self.root / self.relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "ab")
        return self._file

    def _append(self, record_bytes: bytes, url: str, fetched_at: datetime, status: int | None,
                kind: str) -> CaptureRef:
        handle = self._open()
        offset = handle.tell()
        handle.write(record_bytes)
        handle.flush()
        if self.fsync:
            os.fsync(handle.fileno())
        return CaptureRef(
            kind=kind, path=self.relpath, offset=offset, length=len(record_bytes),
            sha256=hashlib.sha256(record_bytes).hexdigest(), url=url, fetched_at=fetched_at,
            status=status, tool_version=self.tool,
        )

    def append_record(self, record_bytes: bytes, url: str, fetched_at: datetime,
                      status: int | None, kind: str = "warc") -> CaptureRef:
        """Keep a WARC record written elsewhere (a partner's evidence package) byte for byte,
        so its SHA-256 stays the one the sender indexed."""
        return self._append(record_bytes, url, fetched_at, status, kind)

    def write_response(
        self,
        url: str,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        fetched_at: datetime | None = None,
        protocol: str = "HTTP/1.1",
        ip_address: str | None = None,
    ) -> CaptureRef:
        """Keep one HTTP response exactly as received (body still content-encoded)."""
        fetched_at = fetched_at or datetime.now(timezone.utc)
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        http_headers = StatusAndHeaders(f"{status} {reason}".strip(), headers,
                                        protocol=protocol or "HTTP/1.1")
        warc_headers = {"WARC-Date": _warc_date(fetched_at), "WARC-Software": self.tool}
        if ip_address:
            warc_headers["WARC-IP-Address"] = ip_address
        return self._write(url, "response", body, http_headers, warc_headers, fetched_at,
                           status, "warc")

    def write_json(self, url: str, document: dict,
                   fetched_at: datetime | None = None) -> CaptureRef:
        """Keep a JSON document (an MTProto message) as a WARC resource record."""
        fetched_at = fetched_at or datetime.now(timezone.utc)
        body = json.dumps(document, ensure_ascii=False, sort_keys=True, default=str).encode()
        warc_headers = {"WARC-Date": _warc_date(fetched_at), "WARC-Software": self.tool}
        return self._write(url, "resource", body, None, warc_headers, fetched_at, None,
                           "mtproto-json", content_type="application/json")

    def _write(self, url, record_type, body, http_headers, warc_headers, fetched_at, status,
               kind, content_type="") -> CaptureRef:
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        record = writer.create_warc_record(
            url, record_type, payload=io.BytesIO(body), length=len(body),
            http_headers=http_headers, warc_headers_dict=warc_headers,
            warc_content_type=content_type,
        )
        writer.write_record(record)
        return self._append(buffer.getvalue(), url, fetched_at, status, kind)

    def sync(self) -> None:
        """Flush and fsync what was appended: one sync for a batch written with fsync off."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _warc_date(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def safe_capture_path(root: Path, relpath: str) -> Path:
    """The absolute file for a stored relative path; refuses anything outside root."""
    root = Path(root).resolve()
    path = (root / relpath).resolve()
    if os.path.isabs(relpath) or root not in path.parents:
        raise CaptureError(f"capture path {relpath!r} leaves the capture directory")
    return path


def read_record_bytes(root: Path, relpath: str, offset: int, length: int, sha256: str) -> bytes:
    """The stored record bytes, checked against the SHA-256 indexed at capture time."""
    path = safe_capture_path(root, relpath)
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
    except FileNotFoundError:
        raise CaptureError(f"capture file {relpath} is missing from {root}") from None
    if len(data) != length or hashlib.sha256(data).hexdigest() != sha256:
        raise CaptureError(
            f"capture {relpath}@{offset} does not match its SHA-256: the file was altered or cut"
        )
    return data


def read_capture(root: Path, relpath: str, offset: int, length: int, sha256: str) -> CapturedRecord:
    """Read one record back: URL, status, headers and the payload byte for byte."""
    data = read_record_bytes(root, relpath, offset, length, sha256)
    for record in ArchiveIterator(io.BytesIO(data)):
        http = record.http_headers
        return CapturedRecord(
            url=record.rec_headers.get_header("WARC-Target-URI"),
            record_type=record.rec_type,
            status=int(http.get_statuscode()) if http is not None else None,
            http_headers=list(http.headers) if http is not None else [],
            payload=record.raw_stream.read(),
            warc_headers=list(record.rec_headers.headers),
        )
    raise CaptureError(f"capture {relpath}@{offset} holds no WARC record")
