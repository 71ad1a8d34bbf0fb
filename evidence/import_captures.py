"""The captures of an imported package into this store's capture directory: a web capture's
WARC record is copied byte for byte (its SHA-256 stays the one the sender indexed, so the same
record is recognised whichever package brings it); an MTProto message is kept as a record of
our own (the package carries the message, not the sender's record), recognised again by its URL
and payload. A capture is found by the offset and length (web) or line (MTProto) the manifest
gives; without them, by its SHA-256 or record id in the capture file.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator

from crawler.store.captures import CaptureError, CaptureWriter, read_capture
from crawler.store.models import Capture
from evidence import names
from evidence.import_input import CaptureIn, ImportRefused


class CaptureImporter:
    """Finds or adds the capture behind each imported item, inside the import's transaction;
    `counts` gets `captures` (added) and `captures_known` (already held)."""

    def __init__(self, session: Session, writer: CaptureWriter, root: Path, warc: Path | None,
                 mtproto: list[dict], counts: dict[str, int]) -> None:
        self.session, self.writer, self.root = session, writer, Path(root)
        self.warc, self.mtproto, self.counts = warc, mtproto, counts
        self._index: dict[str, tuple[int, int]] | None = None
        self._known: dict[str, Capture] = {}  # WARC captures by SHA-256, found or added

    def prefetch(self, described: list[CaptureIn]) -> None:
        """Look the web captures of a batch up in one query."""
        wanted = sorted({d.sha256 for d in described
                         if d.file == names.WARC and d.sha256 not in self._known})
        for start in range(0, len(wanted), 500):
            for capture in self.session.scalars(select(Capture).where(
                    Capture.sha256.in_(wanted[start:start + 500]))):
                self._known.setdefault(capture.sha256, capture)

    def capture(self, described: CaptureIn) -> Capture:
        fetched_at = described.captured_at or datetime.now(timezone.utc)
        if fetched_at.tzinfo is None:
            fetched_at = fetched_at.replace(tzinfo=timezone.utc)
        if described.file == names.WARC:
            if described.sha256 not in self._known:
                self.prefetch([described])
            known = self._known.get(described.sha256)
            if known is None:
                ref = self.writer.append_record(self._warc_record(described), described.url,
                                                fetched_at, described.http_status)
        elif described.file == names.MTPROTO:
            line = self._mtproto_line(described)
            known = self._known_message(described.url, line.get("payload_sha256"))
            if known is None:
                ref = self.writer.write_json(described.url,
                                             line.get("message", line.get("payload")),
                                             fetched_at)
        else:
            raise ImportRefused([f"a capture points at {described.file[:80]!r}, not a "
                                 "capture file"])
        if known is not None:
            self.counts["captures_known"] += 1
            return known
        ref = dataclasses.replace(ref, tool_version=(described.component_version or "")[:64]
                                  or ref.tool_version)
        capture = Capture(kind=ref.kind, path=ref.path, offset=ref.offset, length=ref.length,
                          sha256=ref.sha256, url=ref.url, status=ref.status,
                          fetched_at=ref.fetched_at, tool_version=ref.tool_version)
        self.session.add(capture)
        self.session.flush()
        if capture.kind == "warc":
            self._known[capture.sha256] = capture
        self.counts["captures"] += 1
        return capture

    def _warc_record(self, described: CaptureIn) -> bytes:
        place = (described.offset, described.length) \
            if described.offset is not None and described.length is not None \
            else self._records().get(described.sha256)
        if self.warc is None or place is None:
            raise ImportRefused([f"capture {described.sha256[:12]}… is not in {names.WARC}"])
        with open(self.warc, "rb") as handle:
            handle.seek(place[0])
            data = handle.read(place[1])
        if hashlib.sha256(data).hexdigest() != described.sha256:
            raise ImportRefused([f"the record at {place[0]} of {names.WARC} does not match its "
                                 "SHA-256 in the manifest"])
        return data

    def _records(self) -> dict[str, tuple[int, int]]:
        """SHA-256 of each record of the package's WARC -> (offset, length), read once."""
        if self._index is None:
            self._index = {}
            if self.warc is not None:
                with open(self.warc, "rb") as handle:
                    iterator = ArchiveIterator(handle)
                    for record in iterator:
                        iterator.read_to_end(record)
                        offset, length = iterator.get_record_offset(), \
                            iterator.get_record_length()
                        handle_at = handle.tell()
                        handle.seek(offset)
                        digest = hashlib.sha256(handle.read(length)).hexdigest()
                        handle.seek(handle_at)
                        self._index[digest] = (offset, length)
        return self._index

    def _mtproto_line(self, described: CaptureIn) -> dict:
        if described.line is not None:
            found = self.mtproto[described.line - 1] \
                if described.line <= len(self.mtproto) else None
        else:
            found = next((line for line in self.mtproto if isinstance(line, dict) and
                          line.get("record_sha256") == described.sha256), None)
        if not isinstance(found, dict) or not isinstance(
                found.get("message", found.get("payload")), (dict, str)):
            raise ImportRefused([f"capture {described.sha256[:12]}… has no message in "
                                 f"{names.MTPROTO}"])
        return found

    def _known_message(self, url: str, payload_sha256: str | None) -> Capture | None:
        for capture in self.session.scalars(select(Capture).where(
                Capture.kind == "mtproto-json", Capture.url == url)):
            try:
                record = read_capture(self.root, capture.path, capture.offset, capture.length,
                                      capture.sha256)
            except CaptureError:
                continue
            if hashlib.sha256(record.payload).hexdigest() == payload_sha256:
                return capture
        return None
