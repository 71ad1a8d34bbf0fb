"""Import a partner's evidence package (`kyran import PACKAGE.zip --from ORG`, and the review
app's `POST /api/packages`).

The package is verified against the key trusted for ORG first; anything wrong refuses it whole
and nothing is written. Otherwise, in one transaction, its subjects, posts (with the sender's
verdict), captures (the WARC records byte for byte into this store's capture directory; MTProto
message JSON as records of our own) and indicators come in, and each subject becomes an open
candidate carrying `origin_org`, `origin_package` and `origin_decision`, with a
``candidate.imported`` event (payload: organisation, package_id, decision — what the builder's
custody reads back, so a later package names both organisations).

Nothing the receiver holds is duplicated: a source is the same by platform and numeric id or
handle, a post by source and post id, a capture by its SHA-256 (an MTProto message by URL and
payload), an indicator by kind and value. A candidate this store already has on the same
subject keeps its own state and gets a ``partner.confirmed`` event instead. Importing the same
package again changes nothing and says so. The package is recorded (`evidence_package`,
direction ``in``).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler.store.captures import CaptureWriter
from crawler.store.db import Store
from crawler.store.ingest import add_event
from crawler.store.models import (Candidate)
from crawler.store.models_ops import EvidencePackage
from evidence import names
from evidence.keys import KeyProblem, TrustedKeys, check_org_id
from evidence.import_captures import CaptureImporter
from evidence.import_posts import CATEGORIES, PostImporter
from evidence.import_input import (ImportRefused, ItemIn, RowIn, SubjectIn, json_lines,
                                   parse)
from evidence.verify import Limits, PackageError, extract_checked, verify_package

ACTOR = "component:import"
PRIORITY = 80  # a partner's confirmed finding: near the top of the queue


@dataclass
class ImportResult:
    package_id: str
    organisation: str
    already: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("candidates", "candidates_known", "sources", "posts", "posts_known", "captures",
         "captures_known", "indicators"), 0))
    candidate_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        if self.already:
            return (f"package {self.package_id} from {self.organisation} was imported before: "
                    "nothing changed")
        c = self.counts
        return (f"imported package {self.package_id} from {self.organisation}: "
                f"{c['candidates']} new candidates ({c['candidates_known']} already held), "
                f"{c['posts']} new posts ({c['posts_known']} already held), "
                f"{c['captures']} new captures ({c['captures_known']} already held), "
                f"{c['sources']} new sources, {c['indicators']} new indicators")

    def as_dict(self) -> dict:
        return {"package_id": self.package_id, "organisation": self.organisation,
                "already_imported": self.already, **self.counts,
                "candidate_ids": self.candidate_ids, "summary": self.summary()}


def import_package(store: Store, path: Path | str, organisation: str, trusted: TrustedKeys,
                   captures_root: Path, *, limits: Limits | None = None, actor: str = ACTOR,
                   file_name: str | None = None) -> ImportResult:
    """Verify `path` against the key trusted for `organisation` and bring it in;
    ImportRefused (one line per problem, nothing written) when anything fails."""
    try:
        key = trusted.get(check_org_id(organisation))
    except KeyProblem as exc:
        raise ImportRefused([str(exc)]) from None
    report = verify_package(path, key, limits=limits or Limits())
    if not report.ok:
        raise ImportRefused(report.problems)
    manifest = report.manifest
    sender = (manifest.get("created_by") or {}).get("organisation_id")
    if sender != organisation:
        raise ImportRefused([f"the package says it comes from {str(sender)[:64]!r}, not "
                             f"{organisation!r}"])
    result = ImportResult(manifest["package_id"], organisation)
    with store.reader() as session:
        if _known_package(session, result.package_id):
            result.already = True
            return result
    subjects = [parse(SubjectIn, s, f"manifest subjects[{n}]")
                for n, s in enumerate(manifest.get("subjects") or [], 1)]
    items = {i.ref: i for i in (parse(ItemIn, s, f"manifest items[{n}]")
                                for n, s in enumerate(manifest.get("items") or [], 1))}
    with tempfile.TemporaryDirectory(prefix="kyran-import-") as tmp:
        try:
            members = {name: extract_checked(path, report, name, Path(tmp))
                       for name in (names.POSTS_JSONL, names.WARC, names.MTPROTO)
                       if name in report.sizes}
        except PackageError as exc:
            raise ImportRefused([str(exc)]) from None
        rows = {}
        for number, raw in enumerate(json_lines(members[names.POSTS_JSONL], names.POSTS_JSONL), 1):
            row = parse(RowIn, raw, f"posts.jsonl line {number}")
            rows[row.ref] = row
        writer = CaptureWriter(Path(captures_root), fsync=False, prefix="import")
        try:
            _write(store, result, report, manifest, subjects, items, rows, members, writer,
                   Path(captures_root), actor, file_name or Path(path).name)
        except IntegrityError:  # the same package imported at the same moment elsewhere
            _discard(writer, captures_root)
            with store.reader() as session:
                if _known_package(session, result.package_id):
                    return ImportResult(result.package_id, organisation, already=True)
            raise
        except BaseException:
            _discard(writer, captures_root)
            raise
        writer.close()
    return result


def _known_package(session: Session, package_id: str) -> bool:
    return session.scalar(select(EvidencePackage.id).where(
        EvidencePackage.package_id == package_id, EvidencePackage.direction == "in")) is not None


def _discard(writer: CaptureWriter, root) -> None:
    """Remove the capture file this import wrote: none of its records were indexed."""
    writer.close()
    (Path(root) / writer.relpath).unlink(missing_ok=True)


def _write(store, result, report, manifest, subjects, items, rows, members, writer, root,
           actor, file_name) -> None:
    now = datetime.now(timezone.utc)
    mtproto = list(json_lines(members[names.MTPROTO], names.MTPROTO)) \
        if names.MTPROTO in members else []
    by = manifest.get("created_by") or {}
    with store.session() as session:
        package = EvidencePackage(
            package_id=result.package_id, direction="in", organisation=result.organisation,
            created_at=now, created_by=str(by.get("user") or "")[:128] or None,
            file_name=file_name[:500], sha256=_file_sha256(report.path),
            size=Path(report.path).stat().st_size, subjects=len(subjects), posts=len(items),
            key_fingerprint=report.fingerprint)
        session.add(package)
        session.flush()  # a second import of the same package fails here, before any work
        captures = CaptureImporter(session, writer, root, members.get(names.WARC), mtproto,
                                   result.counts)
        context = _Context(session, result, PostImporter(
            session, captures, result.counts, result.organisation, result.package_id, actor))
        for subject in subjects:
            context.subject(subject, [(items[ref], rows.get(ref)) for ref in subject.items
                                      if ref in items], actor, now)
        add_event(session, actor, "package.imported", "evidence_package", package.id,
                  package_id=result.package_id, organisation=result.organisation,
                  sha256=package.sha256, **result.counts)
        writer.sync()  # the copied records are on disk before they are indexed


def _file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Context:
    """The subjects and candidates of one import inside its transaction."""

    def __init__(self, session: Session, result: ImportResult, posts: PostImporter) -> None:
        self.session, self.result, self.posts = session, result, posts
        self.org = result.organisation

    def subject(self, subject: SubjectIn, evidence: list, actor: str, now: datetime) -> None:
        evidence = [(item, row) for item, row in evidence if row is not None]
        if subject.type == "entity":
            kind = (subject.title or "").strip()[:32]
            if not subject.handle or not kind:
                raise ImportRefused([f"subject {subject.ref}: an entity needs a kind and value"])
            key = (kind, subject.handle[:512])
            target = ("entity", self.posts.entities({key})[key])
            posts = self.posts.posts(evidence, None)
        elif subject.type == "source":
            source = self.posts.source(subject.platform or "telegram", subject.handle,
                                       subject.numeric_id, subject.title)
            target, posts = ("source", source.id), self.posts.posts(evidence, source)
        else:
            posts = self.posts.posts(evidence, None)
            if not posts:
                raise ImportRefused([f"subject {subject.ref}: a post subject without its post"])
            chosen = [post_id for post_id, url, _ in posts if url == subject.url]
            target = ("post", (chosen or [posts[0][0]])[0])
        decision = (subject.decision or {}).get("category") or subject.category
        decision = decision if decision in CATEGORIES else None
        score = max((p[2] for p in posts if p[2] is not None), default=1.0)
        self.candidate(target, subject, decision, score, len(posts), actor, now)

    def candidate(self, target, subject: SubjectIn, decision, score, posts, actor, now) -> None:
        payload = {"organisation": self.org, "package_id": self.result.package_id,
                   "decision": decision, "policy": (subject.decision or {}).get("policy"),
                   "sender_candidate": subject.candidate_id, "subject_ref": subject.ref,
                   "posts": posts}
        known = self.session.scalars(select(Candidate).where(
            Candidate.subject_type == target[0], Candidate.subject_id == target[1])
        ).one_or_none()
        if known is not None:
            self.result.counts["candidates_known"] += 1
            add_event(self.session, actor, "partner.confirmed", "candidate", known.id,
                      **payload)
            self.result.candidate_ids.append(known.id)
            return
        candidate = Candidate(
            subject_type=target[0], subject_id=target[1], category=decision or "sale",
            status="open", priority=PRIORITY, score=float(min(max(score, 0.0), 1.0)),
            reasons=[{"rule": f"imported from {self.org}", "contribution": 0.0,
                      "words": [str((subject.decision or {}).get("policy") or "")][:1]}],
            created_at=now, updated_at=now, last_evidence_at=now, origin_org=self.org,
            origin_package=self.result.package_id, origin_decision=decision)
        self.session.add(candidate)
        self.session.flush()
        add_event(self.session, actor, "candidate.imported", "candidate", candidate.id,
                  **payload)
        self.result.counts["candidates"] += 1
        self.result.candidate_ids.append(candidate.id)
