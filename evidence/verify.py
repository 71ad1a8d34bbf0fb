"""Verification of an evidence package (docs/evidence-package.md, "Verification"): the ZIP is
read in memory, member by member and streamed with caps, never extracted; every entry name,
the set of entries against the manifest, each file's size and SHA-256, the Ed25519 signature of
`manifest.json`, and (when present) the RFC 3161 timestamp are checked. Every problem found is
one line in the report; a package is valid only when there is none.

Works without a store or a configuration: the receiving side of an exchange has neither.
`open_checked` gives the importer a member's bytes again, checked against the manifest as read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from evidence.keys import KeyProblem, fingerprint, parse_public_key, verify
from evidence.names import (INDICATORS, MANIFEST, MANIFEST_ENTRIES, POSTS_CSV, POSTS_JSONL,
                            REPORT_HTML, SIGNATURE, TIMESTAMP, TSA_CHAIN, URLS, BadName,
                            check_name)

FORMAT = "kyran-evidence-package"
FORMAT_VERSION = 1
REQUIRED_FILES = (POSTS_CSV, POSTS_JSONL, URLS, INDICATORS, REPORT_HTML)
SHA256 = re.compile(r"[0-9a-f]{64}")
CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """Caps that make a hostile archive fail instead of filling memory or disk."""

    max_entries: int = 20_000
    max_entry_bytes: int = 1 << 30  # one member, uncompressed
    max_total_bytes: int = 4 << 30  # all members, uncompressed
    max_manifest_bytes: int = 64 << 20
    max_ratio: int = 200  # uncompressed / compressed, for members over ratio_floor bytes
    ratio_floor: int = 1 << 20


@dataclass
class Report:
    """What `verify_package` found: `problems` (one line each; none: valid), the manifest when
    it could be read, the signing key's fingerprint, and whether that key was given (trusted)
    or only the one the manifest carries."""

    path: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: dict | None = None
    fingerprint: str | None = None
    key_given: bool = False
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        manifest = self.manifest or {}
        return {"path": self.path, "valid": self.ok, "problems": self.problems,
                "notes": self.notes, "package_id": manifest.get("package_id"),
                "created_by": manifest.get("created_by"), "fingerprint": self.fingerprint,
                "key_verified": self.key_given and self.ok, "files": len(self.sizes)}


class PackageError(Exception):
    """A member cannot be read back as the verified manifest says (the file changed since)."""


def name_problem(name: str) -> str | None:
    """Why `name` may not be an entry of a package (None: it may)."""
    try:
        check_name(name)
    except BadName as exc:
        return str(exc)
    return None


def _strict_json(data: bytes) -> dict:
    def pairs(items):
        keys = [key for key, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError("a key appears twice in one object")
        return dict(items)

    def constant(name):
        raise ValueError(f"{name} is not JSON")

    value = json.loads(data.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


def _stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, sink) -> int:
    """Feed a member to `sink` chunk by chunk; its size. ValueError past `cap` bytes (whatever
    the archive declares) or when the member is damaged (CRC, deflate stream)."""
    size = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > cap:
                    raise ValueError(f"larger than {cap} bytes")
                sink(chunk)
    except DAMAGE as exc:
        raise ValueError(f"damaged ({str(exc).splitlines()[0] if str(exc) else 'unreadable'})") \
            from None
    return size


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> tuple[bytes, int]:
    """(SHA-256, size) of a member, streamed."""
    digest = hashlib.sha256()
    size = _stream(archive, info, cap, digest.update)
    return digest.digest(), size


def _read_small(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    chunks: list[bytes] = []
    _stream(archive, info, cap, chunks.append)
    return b"".join(chunks)


def _check_entries(archive: zipfile.ZipFile, limits: Limits, report: Report) -> dict | None:
    """Names, duplicates, declared sizes and ratios; the usable entries by name (None: the
    archive as a whole is refused)."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        report.problems.append(f"{len(infos)} entries, more than the {limits.max_entries} allowed")
        return None
    entries, folded, total = {}, {}, 0
    for info in infos:
        name = info.filename
        problem = name_problem(name)
        if problem:
            report.problems.append(problem)
            continue
        if name in entries:
            report.problems.append(f"entry {name} appears twice")
            continue
        if name.casefold() in folded:
            report.problems.append(f"entries {folded[name.casefold()]} and {name} differ only "
                                   "in case")
            continue
        if info.flag_bits & 0x1:
            report.problems.append(f"entry {name} is encrypted")
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            report.problems.append(f"entry {name} uses an unsupported compression method "
                                   f"({info.compress_type})")
            continue
        if info.file_size > limits.max_entry_bytes:
            report.problems.append(f"entry {name} declares {info.file_size} bytes, more than the "
                                   f"{limits.max_entry_bytes} allowed (a zip bomb?)")
            continue
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            report.problems.append(f"entry {name} expands {ratio} times, more than "
                                   f"{limits.max_ratio} (a zip bomb?)")
            continue
        total += info.file_size
        entries[name], folded[name.casefold()] = info, name
    if total > limits.max_total_bytes:
        report.problems.append(f"the entries declare {total} bytes in all, more than the "
                               f"{limits.max_total_bytes} allowed (a zip bomb?)")
        return None
    return entries


def _manifest_files(manifest: dict, report: Report) -> dict[str, tuple[str, int]]:
    """The manifest's files as {path: (sha256, size)}, each listing checked."""
    files = manifest.get("files")
    if not isinstance(files, list):
        report.problems.append("manifest.json has no list of files")
        return {}
    listed, folded = {}, set()
    for number, item in enumerate(files, 1):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            report.problems.append(f"manifest files[{number}] has no path")
            continue
        path, digest, size = item["path"], item.get("sha256"), item.get("size")
        problem = name_problem(path)
        if problem:
            report.problems.append(f"manifest lists a file outside the package: {problem}")
            continue
        if path in MANIFEST_ENTRIES:
            report.problems.append(f"manifest lists {path}, which cannot list itself")
            continue
        if path.casefold() in folded:
            report.problems.append(f"manifest lists {path} twice")
            continue
        if not isinstance(digest, str) or not SHA256.fullmatch(digest) or \
                not isinstance(size, int) or isinstance(size, bool) or size < 0:
            report.problems.append(f"manifest entry for {path} has no valid sha256 and size")
            continue
        folded.add(path.casefold())
        listed[path] = (digest, size)
    return listed


def _check_signature(manifest_bytes: bytes, signature: bytes, manifest: dict,
                     public_key: Ed25519PublicKey | None, report: Report) -> None:
    line = signature[:-1] if signature.endswith(b"\n") else signature
    try:
        sig = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError):
        sig = b""
    if not sig or base64.b64encode(sig) != line:  # the one canonical spelling, nothing else
        report.problems.append("manifest.sig is not one line of base64")
        return
    embedded = None
    signing_key = manifest.get("signing_key")
    if isinstance(signing_key, dict) and isinstance(signing_key.get("public_key"), str):
        try:
            embedded = parse_public_key(signing_key["public_key"].encode("ascii", "replace"))
        except (KeyProblem, ValueError):
            report.problems.append("the manifest's signing_key is not an Ed25519 public key")
    if embedded is not None and signing_key.get("fingerprint") != fingerprint(embedded):
        report.problems.append("the manifest's signing_key fingerprint does not match its key")
    key = public_key if public_key is not None else embedded
    if key is None:
        report.problems.append("no Ed25519 public key to check the signature with (the manifest "
                               "carries none; give --key FILE)")
        return
    report.fingerprint, report.key_given = fingerprint(key), public_key is not None
    if not verify(key, sig, manifest_bytes):
        whose = "the given key" if public_key is not None else "the key in the manifest"
        report.problems.append(f"manifest.sig does not verify with {whose} "
                               f"{report.fingerprint}: the manifest was altered or signed by "
                               "another key")
        return
    if public_key is None:
        report.notes.append(f"signed by an unverified key {report.fingerprint}")
    elif embedded is not None and fingerprint(embedded) != report.fingerprint:
        report.notes.append("the manifest names another signing key than the one that verified")


def _check_files(archive, entries: dict, listed: dict, limits: Limits, report: Report) -> None:
    for name in sorted(set(entries) - set(listed) - set(MANIFEST_ENTRIES)):
        report.problems.append(f"entry {name} is not listed in the manifest")
    for name in sorted(set(listed) - set(entries)):
        report.problems.append(f"{name} is listed in the manifest but missing from the package")
    for name in REQUIRED_FILES:
        if name not in listed:
            report.problems.append(f"the required file {name} is not in the manifest")
    if not any(name.startswith("requests/") for name in listed):
        report.problems.append("the manifest lists no request text (requests/…)")
    for name in sorted(set(listed) & set(entries)):
        digest, size = listed[name]
        try:
            actual, actual_size = _read_member(archive, entries[name], limits.max_entry_bytes)
        except ValueError as exc:
            report.problems.append(f"entry {name} is {exc}")
            continue
        if actual_size != size:
            report.problems.append(f"{name} has {actual_size} bytes, the manifest says {size}")
        elif actual.hex() != digest:
            report.problems.append(f"{name} does not match its SHA-256 in the manifest")
        else:
            report.sizes[name] = size


def _check_timestamp(manifest_bytes: bytes, token: bytes, chain: bytes,
                     report: Report) -> None:
    """The RFC 3161 token over the manifest, judged by evidence/timestamp.py (its imprint is
    SHA-256(manifest.json), its signature verifies with tsa-chain.pem at the time it was made)."""
    try:
        from evidence.timestamp import verify_timestamp
    except ImportError:
        report.problems.append("manifest.tsr cannot be checked: this Kyran has no RFC 3161 "
                               "support (evidence/timestamp.py, rfc3161-client)")
        return
    ok, _when, reason = verify_timestamp(manifest_bytes, token, chain)
    (report.notes if ok else report.problems).append(reason)


def verify_package(path: Path | str, public_key: Ed25519PublicKey | None = None, *,
                   limits: Limits | None = None) -> Report:
    """Check the package at `path`; `public_key` is the key it must be signed
    with (a partner's trusted key, or --key), None to use the one the manifest carries."""
    report, limits = Report(str(path)), limits or Limits()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        report.problems.append(f"not a readable ZIP file ({str(exc).splitlines()[0]})")
        return report
    with archive:
        entries = _check_entries(archive, limits, report)
        if entries is None:
            return report
        for required in (MANIFEST, SIGNATURE):
            if required not in entries:
                report.problems.append(f"{required} is missing")
        if TIMESTAMP in entries and TSA_CHAIN not in entries:
            report.problems.append(f"{TIMESTAMP} comes without {TSA_CHAIN}")
        if MANIFEST not in entries:
            return report
        try:
            manifest_bytes = _read_small(archive, entries[MANIFEST], limits.max_manifest_bytes)
            manifest = _strict_json(manifest_bytes)
        except ValueError as exc:
            report.problems.append(f"manifest.json cannot be read: {str(exc).splitlines()[0]}")
            return report
        report.manifest = manifest
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            report.problems.append(f"manifest.json is not a {FORMAT} of version {FORMAT_VERSION}")
        if not isinstance(manifest.get("package_id"), str) or \
                not re.fullmatch(r"[0-9a-f-]{36}", manifest["package_id"]):
            report.problems.append("manifest.json has no valid package_id")
        listed = _manifest_files(manifest, report)
        _check_files(archive, entries, listed, limits, report)
        if SIGNATURE in entries:
            try:
                signature = _read_small(archive, entries[SIGNATURE], 4096)
            except ValueError as exc:
                report.problems.append(f"manifest.sig is {exc}")
            else:
                _check_signature(manifest_bytes, signature, manifest, public_key, report)
        if TIMESTAMP in entries and TSA_CHAIN in entries:
            try:
                token = _read_small(archive, entries[TIMESTAMP], 1 << 20)
                chain = _read_small(archive, entries[TSA_CHAIN], 1 << 20)
            except ValueError as exc:
                report.problems.append(f"the timestamp is {exc}")
            else:
                _check_timestamp(manifest_bytes, token, chain, report)
    return report


def extract_checked(path: Path | str, report: Report, name: str, directory: Path) -> Path:
    """Copy member `name` of a verified package into `directory` (a temporary one the caller
    owns; the file is named by a counter, never by the entry name) while checking its size and
    SHA-256 against the verified manifest again, so a package swapped after verification is
    refused, not imported; PackageError otherwise. Memory stays flat however large it is."""
    if not report.ok or report.manifest is None:
        raise PackageError("the package did not verify")
    expected = {item["path"]: item for item in report.manifest["files"]}.get(name)
    if expected is None:
        raise PackageError(f"{name} is not in the package")
    target = Path(directory) / f"member-{len(list(Path(directory).iterdir()))}.bin"
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(path) as archive, open(target, "xb") as out:
            def sink(chunk: bytes) -> None:
                digest.update(chunk)
                out.write(chunk)

            size = _stream(archive, archive.getinfo(name), expected["size"], sink)
    except (KeyError, ValueError, *DAMAGE) as exc:
        raise PackageError(f"{name} cannot be read again: {exc}") from None
    if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
        raise PackageError(f"{name} changed after verification")
    return target
