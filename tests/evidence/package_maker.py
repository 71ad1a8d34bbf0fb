"""A small maker of evidence packages written straight from docs/evidence-package.md, for the
verifier's and importer's tests: members given as bytes, a manifest listing them, an Ed25519
signature. Tests then damage the result by hand (flip a byte, add or drop a member, craft
hostile names) to see the verifier refuse it."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def warc_record(url: str, body: bytes) -> tuple[bytes, str]:
    """One gzip-member WARC response record and its WARC-Record-ID."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    record = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body),
        http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                      protocol="HTTP/1.1"),
        warc_headers_dict={"WARC-Date": "2026-11-29T10:00:00Z"})
    writer.write_record(record)
    return buffer.getvalue(), record.rec_headers.get_header("WARC-Record-ID")


def sample_members(channel: str = "shop_kz", posts: int = 2) -> tuple[dict[str, bytes], dict]:
    """Members and the manifest's subjects/items for one Telegram channel with `posts` posts,
    each captured in captures/web.warc.gz (one more monitor post in captures/mtproto.jsonl)."""
    warc, rows, items = b"", [], []
    for number in range(1, posts + 1):
        url = f"https://t.me/{channel}/{number}"
        text = f"Закладки {number}, пиши @{channel}_bot"
        record, record_id = warc_record(f"https://t.me/s/{channel}", f"<p>{text}</p>".encode())
        warc += record
        ref = f"P{number}"
        rows.append({"ref": ref, "subject": "S1", "url": url, "channel": channel,
                     "post_id": number, "posted_at": "2026-11-29T09:00:00Z", "text": text,
                     "views": 100 + number, "indicators": f"bot:{channel}_bot",
                     "verdict": "sale", "score": 0.9,
                     "capture_sha256": hashlib.sha256(record).hexdigest()})
        items.append({"ref": ref, "subject": "S1", "url": url, "channel": channel,
                      "post_id": number, "posted_at": "2026-11-29T09:00:00Z",
                      "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                      "capture": {"file": "captures/web.warc.gz", "record_id": record_id,
                                  "sha256": hashlib.sha256(record).hexdigest(),
                                  "captured_at": "2026-11-29T10:00:00Z",
                                  "component": "spider:telegram-preview",
                                  "component_version": "0.1.0", "url": f"https://t.me/s/{channel}",
                                  "http_status": 200},
                      "missing": None,
                      "custody": [{"at": "2026-11-29T10:00:00Z", "action": "captured",
                                   "by": "spider:telegram-preview 0.1.0", "organisation": "a"}]})
    monitor = {"id": posts + 1, "peer": channel, "date": "2026-11-29T11:00:00Z",
               "message": f"Работа курьером, пиши @{channel}_bot"}
    subjects = [{"ref": "S1", "candidate_id": 7, "type": "source", "platform": "telegram",
                 "handle": channel, "title": "Shop KZ", "url": f"https://t.me/{channel}",
                 "numeric_id": 1234567, "category": "sale", "categories": ["sale"],
                 "decision": {"action": "confirm", "policy": "drug-sale", "by": "Pseudonym",
                              "at": "2026-11-29T12:00:00Z", "organisation": "a"},
                 "items": [item["ref"] for item in items], "origin": []}]
    csv = "ref,subject,url,channel,post_id,posted_at,text,views,indicators,verdict,score," \
          "capture_sha256\r\n" + "".join(
              f"{r['ref']},S1,{r['url']},{channel},{r['post_id']},{r['posted_at']},"
              f"\"{r['text']}\",{r['views']},{r['indicators']},sale,0.9,{r['capture_sha256']}\r\n"
              for r in rows)
    members = {
        "posts.csv": csv.encode(),
        "posts.jsonl": "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode(),
        "urls.txt": (f"https://t.me/{channel}\n" + "".join(r["url"] + "\n" for r in rows))
        .encode(),
        "indicators.json": json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                       "objects": []}).encode(),
        "requests/telegram.en.txt": b"Please remove this channel.\n",
        "report.html": b"<!doctype html><title>report</title><p>Shop KZ</p>",
        "captures/web.warc.gz": warc,
        "captures/mtproto.jsonl": (json.dumps(monitor, ensure_ascii=False) + "\n").encode(),
    }
    return members, {"subjects": subjects, "items": items}


def manifest_for(members: dict[str, bytes], key: Ed25519PrivateKey, extra: dict | None = None,
                 organisation: str = "a") -> dict:
    public = raw_public(key)
    manifest = {
        "format": "kyran-evidence-package", "format_version": 1,
        "package_id": str(uuid.uuid4()),
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created_by": {"organisation": "Org " + organisation, "organisation_id": organisation,
                       "user": "Pseudonym"},
        "kyran_version": "0.1.0",
        "recipient": {"profile": "generic", "languages": ["en"]},
        "notifier": {"name": "Org", "email": "", "contact": ""},
        "signing_key": {"algorithm": "Ed25519",
                        "fingerprint": "sha256:" + hashlib.sha256(public).hexdigest(),
                        "public_key": base64.b64encode(public).decode()},
        "subjects": [], "items": [],
        "files": [{"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for name, data in sorted(members.items())],
    }
    manifest.update(extra or {})
    return manifest


def manifest_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode()


def write_package(path: Path, members: dict[str, bytes], key: Ed25519PrivateKey,
                  manifest: dict | None = None, extra_entries: dict[str, bytes] | None = None,
                  signature: bytes | None = None) -> dict:
    """Write a signed package; its manifest (from `members` unless given)."""
    manifest = manifest if manifest is not None else manifest_for(members, key)
    body = manifest_bytes(manifest)
    sig = signature if signature is not None else base64.b64encode(key.sign(body)) + b"\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", body)
        archive.writestr("manifest.sig", sig)
        for name, data in {**members, **(extra_entries or {})}.items():
            archive.writestr(name, data)
    return manifest


def make_package(path: Path, key: Ed25519PrivateKey, organisation: str = "a",
                 channel: str = "shop_kz", posts: int = 2) -> dict:
    members, parts = sample_members(channel, posts)
    return write_package(path, members, key, manifest_for(members, key, parts, organisation))


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rewrite(path: Path, members: dict[str, bytes], out: Path | None = None) -> Path:
    """Write `members` (name → bytes, in order) as a ZIP, names taken exactly as given."""
    out = out or path
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo("placeholder", date_time=(2026, 11, 30, 0, 0, 0))
            info.filename = name  # bypass ZipInfo's clean-up: hostile names as an attacker writes them
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out
