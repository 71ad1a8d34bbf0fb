"""The captures of an imported package into this store's capture directory: a web capture's
WARC record is copied byte for byte (its SHA-256 stays the one the sender indexed, so the same
record is recognised whichever package brings it); an MTProto message is kept as a record of
our own (the package carries the message, not the sender's record), recognised again by its URL
and payload. A capture is found by the offset and length (web) or line (MTProto) the manifest
gives; without them, by its SHA-256 or record id in the capture file.
"""

from __future__ import annotations

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
    """Finds or adds the captures behind a batch of imported items, inside the import's
    transaction, as capture ids; `counts` gets `captures` (added) and `captures_known`."""

    def __init__(self, session: Session, writer: CaptureWriter, root: Path, warc: Path | None,
                 mtproto: list[dict], counts: dict[str, int]) -> None:
        self.session, self.writer, self.root = session, writer, Path(root)
        self.warc, self.mtproto, self.counts = warc, mtproto, counts
        self._index: dict[str, tuple[int, int]] | None = None
        self._known: dict[str, int] = {}  # capture id by the SHA-256 of its record

    def ids(self, described: list[CaptureIn | None]) -> list[int | None]:
        """The capture id of each item (None where it has none), adding what is missing with
        one multi-row insert."""
        self._prefetch([d.sha256 for d in described if d is not None and d.file == names.WARC])
        keys, rows = [], {}
        for item in described:
            if item is None:
                keys.append(None)
                continue
            key = self._find_or_copy(item, rows)
            keys.append(key)
        if rows:
            self.session.execute(Capture.__table__.insert(), list(rows.values()))
            self._prefetch(list(rows))
            self.counts["captures"] += len(rows)
        return [self._known[key] if key is not None else None for key in keys]

    def _prefetch(self, hashes: list[str]) -> None:
        wanted = sorted(set(hashes) - set(self._known))
        for start in range(0, len(wanted), 500):
            for capture_id, sha256 in self.session.execute(select(Capture.id, Capture.sha256)
                                                           .where(Capture.sha256.in_(
                                                               wanted[start:start + 500]))):
                self._known.setdefault(sha256, capture_id)

    def _find_or_copy(self, described: CaptureIn, rows: dict[str, dict]) -> str:
        """The SHA-256 the capture is known by here, its record copied in when new."""
        if described.file == names.WARC:
            if described.sha256 in self._known or described.sha256 in rows:
                self.counts["captures_known"] += described.sha256 in self._known
                return described.sha256
            ref = self.writer.append_record(self._warc_record(described), described.url,
                                            _aware(described.captured_at),
                                            described.http_status)
        elif described.file == names.MTPROTO:
            line = self._mtproto_line(described)
            known = self._known_message(described.url, line.get("payload_sha256"))
            if known is not None:
                self._known[known.sha256] = known.id
                self.counts["captures_known"] += 1
                return known.sha256
            ref = self.writer.write_json(described.url, line.get("message", line.get("payload")),
                                         _aware(described.captured_at))
        else:
            raise ImportRefused([f"a capture points at {described.file[:80]!r}, not a "
                                 "capture file"])
        rows[ref.sha256] = {
            "kind": ref.kind, "path": ref.path, "offset": ref.offset, "length": ref.length,
            "sha256": ref.sha256, "url": ref.url, "status": ref.status,
            "fetched_at": ref.fetched_at,
            "tool_version": (described.component_version or "")[:64] or ref.tool_version}
        return ref.sha256

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


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(timezone.utc)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
