"""The original captures inside a package: the exact stored WARC records of web-captured evidence
posts, concatenated (each a gzip member) into `captures/web.warc.gz`, which `warcio` and replay
tools read as any WARC; and the MTProto message JSON of monitor-captured posts, one per line,
in `captures/mtproto.jsonl`. Each record goes in once, however many items point at it; its
offset and length in the package are given so its stored SHA-256 can be checked again.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zlib
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.store.models import Capture
from evidence import names
from evidence.manifest import iso
from evidence.spool import Spool

_RECORD_ID = re.compile(rb"(?im)^WARC-Record-ID:[ \t]*(<[\x21-\x7e]{1,200}>)[ \t]*\r?$")


def _record(data: bytes):
    for record in ArchiveIterator(io.BytesIO(data)):
        return record
    raise ValueError("no WARC record in the stored bytes")


def record_id(data: bytes) -> str | None:
    """The WARC-Record-ID of one gzipped record, read from its first kilobytes only."""
    head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:16384], 65536)
    match = _RECORD_ID.search(head.partition(b"\r\n\r\n")[0])
    if match:
        return match.group(1).decode("ascii")
    return _record(data).rec_headers.get_header("WARC-Record-ID")


def component_of(capture: Capture, platform: str) -> str:
    """Which part of Kyran made a capture."""
    if capture.kind == "mtproto-json":
        return "monitor:telegram"
    return "spider:telegram-preview" if platform == "telegram" else "spider:site"


class CaptureOut:
    """web.warc.gz and mtproto.jsonl of one package, opened on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.web: Spool | None = None
        self.mtproto: Spool | None = None
        # capture id -> where its record went: (file, record id, offset or line, length)
        self._done: dict[int, tuple[str, str | None, int, int]] = {}

    def add(self, capture: Capture, data: bytes, platform: str) -> dict:
        """Copy one stored record in (once); the manifest's `capture` object for it."""
        if capture.id not in self._done:
            self._done[capture.id] = self._copy(capture, data)
        file, rid, where, length = self._done[capture.id]
        place = {"line": where} if file == names.MTPROTO else {"offset": where, "length": length}
        return {"file": file, "record_id": rid, "sha256": capture.sha256,
                "captured_at": iso(capture.fetched_at), "url": capture.url,
                "http_status": capture.status, "component": component_of(capture, platform),
                "component_version": capture.tool_version or None, **place}

    def _copy(self, capture: Capture, data: bytes) -> tuple[str, str | None, int, int]:
        if capture.kind != "mtproto-json":
            if self.web is None:
                self.web = Spool(self.directory, names.WARC)
            rid = record_id(data)
            return names.WARC, rid, self.web.write(data), len(data)
        if self.mtproto is None:
            self.mtproto = Spool(self.directory, names.MTPROTO)
        record = _record(data)
        payload = record.content_stream().read()
        rid = record.rec_headers.get_header("WARC-Record-ID")
        line = {"record_id": rid, "url": capture.url, "record_sha256": capture.sha256,
                "payload_sha256": hashlib.sha256(payload).hexdigest()}
        try:  # the monitor stored json.dumps(message, ensure_ascii=False, sort_keys=True)
            line["message"] = json.loads(payload)
        except ValueError:
            line["payload"] = payload.decode("utf-8", "replace")
        self.mtproto.record(line)
        return names.MTPROTO, rid, self.mtproto.count, 0

    def spools(self) -> list[Spool]:
        return [s for s in (self.web, self.mtproto) if s is not None]
