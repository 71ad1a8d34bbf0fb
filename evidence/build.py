"""Build one evidence package (docs/evidence-package.md) for a batch of confirmed candidates.

The batch is collected candidate by candidate, its evidence posts in chunks, into members
spooled to temporary files (hashed as written); the optional `extras` hooks (evidence/context.py)
then add request texts, the report, screenshots, a WACZ and a timestamp; the ZIP (ZIP64) is
written member by member, `manifest.json` and `manifest.sig` last, and renamed into place only
when complete. Then, in one transaction, the package is recorded, each candidate gets a
``reported`` event (package id, recipient) and a confirmed one becomes ``reported``, so the
liveness monitor watches it. Without extras a plain report and request texts are written.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from crawler.config_evidence import RECIPIENTS
from crawler.store.db import Store
from crawler.store.ingest import add_event
from crawler.store.models import Candidate, User
from crawler.store.models_ops import EvidencePackage
from evidence import keys, names, plain
from evidence.collect import EXPORTABLE, Selection, candidate_ids, user_name
from evidence.context import PackageContext
from evidence.gather import Gathered, gather
from evidence.manifest import FORMAT, FORMAT_VERSION, iso, write_assembled
from evidence.spool import Spool

STORED = (".gz", ".png", ".pdf", ".wacz", ".zip")  # already compressed: stored as they are
COPY = 1 << 20
CHUNK_IDS = 500


class BuildError(Exception):
    """The package could not be built; the message is one line (nothing was recorded)."""


@dataclass
class BuildResult:
    path: Path
    package_id: str
    sha256: str
    size: int
    subjects: int
    items: int
    missing: int
    fingerprint: str
    candidate_ids: list[int]


def kyran_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kyran")
    except PackageNotFoundError:
        return "dev"


def _exporter(session, user: User | str | None) -> User:
    name = user.username if isinstance(user, User) else user
    found = session.scalars(select(User).where(User.username == name)).one_or_none() \
        if name and "\x00" not in name else None
    if found is None:
        raise BuildError(f"no user {name!r} in the store: give --as USERNAME")
    if not found.active:
        raise BuildError(f"user {found.username} is deactivated")
    if found.role not in ("lead", "admin"):
        raise BuildError(f"exporting a package needs the lead role; {found.username} is "
                         f"{found.role}")
    return found


def _signing_key(config):
    path = config.resolve(config.evidence.signing_key_file)
    if not path.exists():
        raise BuildError(f"no signing key at {path}: run `kyran keys generate` first")
    try:
        return keys.load_private_key(path)
    except keys.KeyProblem as exc:
        raise BuildError(str(exc)) from None


def build_package(store: Store, config, selection: Selection, recipient: str,
                  user: User | str | None, *, extras=None, out_dir: Path | None = None,
                  now: datetime | None = None) -> BuildResult:
    """Write ``kyran-<id>.zip`` into `out_dir` (default `[evidence] out_dir`) and record it;
    BuildError (one line; nothing recorded, no file left) when it cannot be made."""
    if recipient not in RECIPIENTS:
        raise BuildError(f"unknown recipient {recipient!r}: expected one of "
                         f"{', '.join(RECIPIENTS)}")
    evidence = config.evidence
    key = _signing_key(config)
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    package_id = str(uuid.uuid4())
    out_dir = config.resolve(Path(out_dir or evidence.out_dir))
    with store.reader() as session:
        exporter = _exporter(session, user)
        exporter_username, exporter_name = exporter.username, user_name(exporter)
        ids = candidate_ids(session, selection, evidence.max_batch)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"{out_dir}: cannot create the output directory: {exc.strerror}") \
            from None
    final = out_dir / names.package_file_name(package_id)
    with tempfile.TemporaryDirectory(prefix=".kyran-export-", dir=out_dir) as tmp:
        context = PackageContext(
            package_id=package_id, created_at=iso(now), recipient=recipient,
            languages=list(evidence.languages), organisation=evidence.organisation,
            organisation_id=evidence.organisation_id, notifier=_notifier(evidence),
            legal_basis=evidence.legal_basis, created_by=exporter_name, config=evidence)
        got = gather(store, ids, Path(tmp), context, captures_root=config.captures_path,
                     exported_at=iso(now), exporter=exporter_name)
        try:
            members = got.members() + _extra_members(Path(tmp), got, context, extras)
            head = _head(context, key, now, members)
            manifest_path = Path(tmp) / "manifest.tmp"
            with open(manifest_path, "w", encoding="utf-8", newline="") as out:
                write_assembled(out, head, {"subjects": got.subjects.records(),
                                            "items": got.items.records()})
            manifest = manifest_path.read_bytes()  # whole: Ed25519 signs the exact bytes
            _write_zip(final, members, manifest, key, extras, now)
        except names.BadName as exc:  # a name a hook made up
            raise BuildError(f"not packaged: {exc}") from None
    result = BuildResult(final, package_id, *_digest(final), got.subject_count,
                         got.item_count, got.missing, keys.fingerprint(key), ids)
    try:
        _record(store, result, recipient, exporter_username, exporter_name, now)
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    return result


def _notifier(evidence) -> dict:
    return {"name": evidence.contact_name or evidence.organisation,
            "email": evidence.contact_email or None, "contact": evidence.contact_name or None}


def _head(context: PackageContext, key, now: datetime, members: list[Spool]) -> dict:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "package_id": context.package_id,
        "created_at": iso(now), "kyran_version": kyran_version(),
        "created_by": {"organisation": context.organisation,
                       "organisation_id": context.organisation_id, "user": context.created_by},
        "recipient": {"profile": context.recipient, "languages": context.languages},
        "notifier": context.notifier,
        "signing_key": {"algorithm": "Ed25519", "fingerprint": keys.fingerprint(key),
                        "public_key": keys.public_b64(key)},
        "summary": {"subjects": context.subject_count, "items": context.item_count,
                    "missing_captures": context.missing_count,
                    "screenshots": len(context.screenshots)},
        "files": [m.entry() for m in members],
    }


def _spool_bytes(directory: Path, name: str, data: bytes) -> Spool:
    spool = Spool(directory, name)
    spool.write(data)
    spool.close()
    return spool


def _hook(extras, name: str, *args):
    method = getattr(extras, name, None) if extras is not None else None
    if method is None:
        return None
    try:
        return method(*args)
    except Exception as exc:  # a hook's failure is the export's: said in one line
        said = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BuildError(f"{name} failed: {said}") from exc


def _extra_members(tmp: Path, got: Gathered, context: PackageContext, extras) -> list[Spool]:
    """Request texts, screenshots, report (HTML, PDF) and WACZ, from the hooks or plain."""
    members = []
    requests = _hook(extras, "request_texts", context) or plain.request_texts(context)
    context.requests = dict(requests)
    for name, text in sorted(requests.items()):
        if not name.startswith("requests/"):
            raise BuildError(f"request text {name!r} is not under requests/")
        members.append(_spool_bytes(tmp, names.check_name(name), text.encode("utf-8")))
    shots = _hook(extras, "screenshots", got.screenshot_items()) or {}
    for name, png in sorted(shots.items()):
        if not name.startswith("screenshots/"):
            raise BuildError(f"screenshot {name!r} is not under screenshots/")
        members.append(_spool_bytes(tmp, names.check_name(name), png))
        context.screenshots[name[len("screenshots/"):].rsplit(".", 1)[0]] = name
    html = _hook(extras, "report_html", context) or plain.report_html(context)
    members.append(_spool_bytes(tmp, names.REPORT_HTML, html.encode("utf-8")))
    pdf = _hook(extras, "report_pdf", html)
    if pdf:
        members.append(_spool_bytes(tmp, names.REPORT_PDF, pdf))
    if got.captures.web is not None:
        wacz = _hook(extras, "wacz", got.captures.web.path)
        if wacz:
            spool = Spool(tmp, names.WACZ)
            with open(wacz, "rb") as handle:
                for chunk in iter(lambda: handle.read(COPY), b""):
                    spool.write(chunk)
            spool.close()
            members.append(spool)
    return members


def _info(name: str, now: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=now.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if name.endswith(STORED) else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write_zip(final: Path, members: list[Spool], manifest: bytes, key, extras,
               now: datetime) -> None:
    seen = names.NameSet()
    part = final.with_name(final.name + ".part")
    try:
        with zipfile.ZipFile(part, "w", allowZip64=True) as archive:
            for member in members:
                seen.add(member.name)
                with open(member.path, "rb") as source, \
                        archive.open(_info(member.name, now), "w", force_zip64=True) as target:
                    for chunk in iter(lambda: source.read(COPY), b""):
                        target.write(chunk)
            archive.writestr(_info(seen.add(names.MANIFEST), now), manifest)
            stamp = _hook(extras, "timestamp", manifest)
            if stamp:
                tsr, chain = stamp
                archive.writestr(_info(seen.add(names.TIMESTAMP), now), tsr)
                archive.writestr(_info(seen.add(names.TSA_CHAIN), now), chain)
            archive.writestr(_info(seen.add(names.SIGNATURE), now),
                             keys.encode_signature(keys.sign(key, manifest)))
        with open(part, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(part, final)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise BuildError(f"{final}: cannot write the package: {exc.strerror}") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _digest(path: Path) -> tuple[str, int]:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(COPY), b""):
            digest.update(chunk)
    return digest.hexdigest(), path.stat().st_size


def _record(store: Store, result: BuildResult, recipient: str, username: str, name: str,
            now: datetime) -> None:
    """The package row, a `reported` event per candidate, confirmed -> reported; refused if a
    candidate was reopened or dismissed meanwhile."""
    actor = f"user:{username}"
    with store.session() as session:
        found: dict[int, Candidate] = {}
        for start in range(0, len(result.candidate_ids), CHUNK_IDS):
            chunk = result.candidate_ids[start:start + CHUNK_IDS]
            found.update((c.id, c) for c in session.scalars(
                select(Candidate).where(Candidate.id.in_(chunk)).with_for_update()
                .execution_options(populate_existing=True)))
        changed = [i for i in result.candidate_ids
                   if i not in found or found[i].status not in EXPORTABLE]
        if changed:
            raise BuildError(f"candidates changed while the package was built (#"
                             f"{', #'.join(map(str, changed[:5]))}): nothing recorded, "
                             "package removed; export again")
        package = EvidencePackage(
            package_id=result.package_id, direction="out", recipient=recipient,
            created_at=now, created_by=name, file_name=result.path.name, sha256=result.sha256,
            size=result.size, subjects=result.subjects, posts=result.items,
            key_fingerprint=result.fingerprint)
        session.add(package)
        session.flush()
        for candidate_id in result.candidate_ids:
            candidate = found[candidate_id]
            event = add_event(session, actor, "reported", "candidate", candidate.id,
                              package_id=result.package_id, recipient=recipient,
                              previous_status=candidate.status)
            event.at = now
            if candidate.status == "confirmed":
                candidate.status = "reported"
                candidate.updated_at = now
        add_event(session, actor, "package.exported", "evidence_package", package.id,
                  package_id=result.package_id, recipient=recipient, file=result.path.name,
                  sha256=result.sha256, subjects=result.subjects, posts=result.items,
                  missing=result.missing).at = now
