"""Collect a batch into the spooled members of a package: per candidate its subject and decision,
then its evidence posts chunk by chunk into the manifest's items (with custody), posts.csv,
posts.jsonl, urls.txt, the STIX bundle, the original captures, and the context file the extras
hooks read. One candidate's session at a time, so memory stays flat over the batch."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from crawler.store.db import Store
from crawler.store.models import Candidate
from evidence import names
from evidence.collect import Evidence, decision_of, evidence_of, origin_of, subject_of
from evidence.context import PackageContext, ScreenshotItem
from evidence.manifest import custody, iso
from evidence.spool import Spool
from evidence.stix import StixWriter
from evidence.tables import PostTables, UrlList
from evidence.warc_out import CaptureOut


@dataclass
class Gathered:
    tables: PostTables
    urls: Spool
    stix: Spool
    captures: CaptureOut
    subjects: Spool  # manifest subjects, one JSON a line
    items: Spool  # manifest items, one JSON a line
    subject_count: int
    item_count: int
    missing: int

    def members(self) -> list[Spool]:
        """The package members made from the store, in package order."""
        return [*self.tables.spools(), self.urls, self.stix, *self.captures.spools()]

    def screenshot_items(self) -> Iterator[ScreenshotItem]:
        if self.captures.web is None:
            return
        for item in self.items.records():
            capture = item.get("capture") or {}
            if capture.get("file") == names.WARC:
                yield ScreenshotItem(item["ref"], item["subject"], item["url"],
                                     self.captures.web.path, capture["offset"],
                                     capture["length"])


def _post_id(external_id: str):
    return int(external_id) if external_id.isdigit() and len(external_id) < 19 else external_id


def gather(store: Store, ids: list[int], tmp: Path, context: PackageContext, *,
           captures_root: Path, exported_at: str, exporter: str) -> Gathered:
    tables, urls, captures = PostTables(tmp), UrlList(tmp), CaptureOut(tmp)
    stix = StixWriter(tmp, context.organisation, context.organisation_id,
                      datetime.fromisoformat(context.created_at.replace("Z", "+00:00")))
    subjects, items = Spool(tmp, "subjects.tmp"), Spool(tmp, "items.tmp")
    context_file = Spool(tmp, "context.tmp")
    counts = {"subjects": 0, "items": 0, "missing": 0}
    for candidate_id in ids:
        with store.reader() as session:
            candidate = session.get(Candidate, candidate_id)
            counts["subjects"] += 1
            subject = subject_of(session, candidate)
            subject.update(ref=names.subject_ref(counts["subjects"]),
                           decision=decision_of(session, candidate, context.organisation),
                           origin=origin_of(session, candidate))
            actor_id = stix.subject(subject)
            urls.subject(subject["url"])
            context_file.record({"subject": subject})
            refs = []
            for batch in evidence_of(session, candidate, captures_root):
                for evidence in batch:
                    counts["items"] += 1
                    ref = names.item_ref(counts["items"])
                    refs.append(ref)
                    item, row = _item(evidence, ref, subject, captures, context, exported_at,
                                      exporter)
                    counts["missing"] += item["missing"] is not None
                    items.record(item)
                    tables.add(row)
                    urls.post(evidence.post.url)
                    for kind, value in evidence.entities:
                        stix.indicator(actor_id, kind, value)
                    context_file.record({"item": {**item, **row, "spans": evidence.spans,
                                                  "indicators": [{"kind": k, "value": v} for
                                                                 k, v in evidence.entities]}})
            subjects.record({**subject, "items": refs})
    for spool in (subjects, items, context_file):
        spool.close()
    for spool in captures.spools():
        spool.close()
    context.subject_count, context.item_count = counts["subjects"], counts["items"]
    context.missing_count, context.subjects_path = counts["missing"], context_file.path
    return Gathered(tables, urls.finish(), stix.finish(), captures, subjects, items,
                    counts["subjects"], counts["items"], counts["missing"])


def _item(evidence: Evidence, ref: str, subject: dict, captures: CaptureOut,
          context: PackageContext, exported_at: str, exporter: str) -> tuple[dict, dict]:
    """The manifest item and the posts.csv row of one evidence post."""
    post, source, verdict = evidence.post, evidence.source, evidence.verdict
    capture = captures.add(evidence.capture, evidence.record, source.platform) \
        if evidence.capture is not None else None
    item = {
        "ref": ref, "subject": subject["ref"], "url": post.url, "channel": source.handle,
        "post_id": _post_id(post.external_id), "posted_at": iso(post.posted_at),
        "text_sha256": hashlib.sha256(post.text.encode("utf-8", "surrogatepass")).hexdigest(),
        "capture": capture, "missing": evidence.missing,
        "custody": custody(capture=capture,
                           captured_by=f"{capture['component']} {capture['component_version']}"
                           if capture else "unknown",
                           organisation=context.organisation, origin=subject["origin"],
                           decision=subject["decision"], exported_at=exported_at,
                           exporter=exporter, package_id=context.package_id),
    }
    row = {"ref": ref, "subject": subject["ref"], "url": post.url, "channel": source.handle,
           "post_id": item["post_id"], "posted_at": item["posted_at"], "text": post.text,
           "views": post.views, "indicators": evidence.entities,
           "verdict": subject["category"],
           "score": round(verdict.score, 4) if verdict is not None else None,
           "capture_sha256": capture["sha256"] if capture else None}
    return item, row
