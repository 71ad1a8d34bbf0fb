"""Hostile ZIPs crafted by hand: zip-slip, absolute and control-character names, duplicates
(also ignoring case), zip bombs (declared and actual sizes, ratio), a manifest pointing outside
or at unlisted files. Each fails with a line naming the problem, and nothing is written."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence.verify import Limits, verify_package
from tests.evidence.package_maker import (make_package, manifest_bytes, members_of,
                                          rewrite, sample_members, write_package)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def tree(root) -> set[str]:
    return {os.path.relpath(os.path.join(folder, name), root)
            for folder, dirs, files in os.walk(root) for name in dirs + files}


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "pkg" / "kyran-test.zip"
    path.parent.mkdir()
    make_package(path, KEY)
    return path


@pytest.mark.parametrize("name, says", [
    ("../evil.txt", "'..' segment"),
    ("captures/../../evil.txt", "'..' segment"),
    ("/etc/evil", "absolute path"),
    ("C:/evil", "character other than"),
    ("captures\\..\\evil", "character other than"),
    ("a//b", "empty"),
    ("captures/", "empty"),
    ("evil\x1b[2J.txt", "'evil\\x1b[2J.txt' has a character other than"),
    ("evil\n.txt", "character other than"),
    ("рус.txt", "character other than"),
    ("a b.txt", "character other than"),
    ("x" * 201, "longer than 200"),
])
def test_hostile_names_are_refused_and_nothing_is_extracted(package, tmp_path, name, says):
    members = members_of(package)
    members[name] = b"owned"
    rewrite(package, members)
    before = tree(tmp_path)
    cwd = os.getcwd()
    os.chdir(package.parent)
    try:
        report = verify_package(package, KEY.public_key())
    finally:
        os.chdir(cwd)
    assert not report.ok
    assert any(says in line for line in report.problems), report.problems
    assert tree(tmp_path) == before


def test_a_nul_in_a_name_is_refused(package):
    members = members_of(package)
    members["posts.csv\x00.exe"] = b"x"
    rewrite(package, members)
    assert not verify_package(package, KEY.public_key()).ok


def test_duplicate_names_are_refused(package):
    members = list(members_of(package).items())
    with pytest.warns(UserWarning):  # zipfile itself warns when writing one
        with zipfile.ZipFile(package, "w") as archive:
            for name, data in members + [("posts.csv", b"second copy")]:
                archive.writestr(name, data)
    report = verify_package(package, KEY.public_key())
    assert "entry posts.csv appears twice" in report.problems


def test_names_differing_only_in_case_are_refused(package):
    members = members_of(package)
    members["POSTS.csv"] = b"shadow"
    rewrite(package, members)
    report = verify_package(package, KEY.public_key())
    assert any("differ only in case" in line for line in report.problems), report.problems


def bomb_package(path, size: int) -> None:
    members, parts = sample_members()
    members["captures/mtproto.jsonl"] = b"\0" * size
    write_package(path, members, KEY)


def test_a_zip_bomb_fails_on_its_ratio(tmp_path):
    path = tmp_path / "bomb.zip"
    bomb_package(path, 40 << 20)
    report = verify_package(path, KEY.public_key())
    assert any("a zip bomb" in line and "expands" in line for line in report.problems)


def test_a_zip_bomb_fails_on_its_declared_size(tmp_path):
    path = tmp_path / "bomb.zip"
    bomb_package(path, 3 << 20)
    report = verify_package(path, KEY.public_key(), limits=Limits(max_entry_bytes=1 << 20))
    assert any("declares" in line and "a zip bomb" in line for line in report.problems)
    total = verify_package(path, KEY.public_key(), limits=Limits(max_total_bytes=2 << 20,
                                                               max_ratio=10**6))
    assert len(total.problems) == 1
    assert total.problems[0].endswith("bytes in all, more than the 2097152 allowed (a zip bomb?)")


def test_too_many_entries_fail(package):
    report = verify_package(package, KEY.public_key(), limits=Limits(max_entries=5))
    assert report.problems == ["10 entries, more than the 5 allowed"]


def test_a_size_declared_smaller_than_the_data_fails(tmp_path):
    """A central directory that lies (declares 1 KiB for 3 MiB) is caught, not trusted."""
    path = tmp_path / "liar.zip"
    bomb_package(path, 3 << 20)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("captures/mtproto.jsonl")
    lied = 0
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            name_at = start + (46 if signature == b"PK\x01\x02" else 30)
            if raw[name_at:name_at + len(info.filename)] == info.filename.encode():
                raw[start + offset:start + offset + 4] = struct.pack("<I", 1024)
                lied += 1
            start += 4
    assert lied == 2
    path.write_bytes(bytes(raw))
    report = verify_package(path, KEY.public_key())
    assert any("captures/mtproto.jsonl" in line for line in report.problems), report.problems


def resigned(package, change) -> None:
    """Change the manifest with `change(manifest)` and sign it again with the right key: the
    signature holds, so only the layout checks can catch it."""
    members = members_of(package)
    manifest = json.loads(members["manifest.json"])
    change(manifest, members)
    import base64

    members["manifest.json"] = manifest_bytes(manifest)
    members["manifest.sig"] = base64.b64encode(KEY.sign(members["manifest.json"])) + b"\n"
    rewrite(package, members)


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "captures/../../x"])
def test_a_manifest_pointing_outside_fails(package, path):
    def change(manifest, members):
        manifest["files"].append({"path": path, "sha256": "0" * 64, "size": 0})

    resigned(package, change)
    report = verify_package(package, KEY.public_key())
    assert any("outside the package" in line for line in report.problems), report.problems


def test_a_manifest_listing_itself_or_a_file_twice_fails(package):
    def change(manifest, members):
        manifest["files"] += [{"path": "manifest.sig", "sha256": "0" * 64, "size": 1},
                              {"path": "URLS.txt", "sha256": "0" * 64, "size": 1}]

    resigned(package, change)
    report = verify_package(package, KEY.public_key())
    assert "manifest lists manifest.sig, which cannot list itself" in report.problems
    assert "manifest lists URLS.txt twice" in report.problems


def test_an_unlisted_member_fails_even_when_signed(package):
    def change(manifest, members):
        manifest["files"] = [f for f in manifest["files"] if f["path"] != "report.html"]

    resigned(package, change)
    report = verify_package(package, KEY.public_key())
    assert "entry report.html is not listed in the manifest" in report.problems
    assert "the required file report.html is not in the manifest" in report.problems


@pytest.mark.parametrize("body, says", [
    (b'{"format": 1, "format": 2}', "twice"),
    (b'{"size": NaN}', "NaN"),
    (b"[1, 2]", "not a JSON object"),
    (b"\xff\xfe", "codec"),
])
def test_a_malformed_manifest_is_one_line(package, body, says):
    members = members_of(package)
    members["manifest.json"] = body
    rewrite(package, members)
    report = verify_package(package, KEY.public_key())
    assert len(report.problems) == 1 and says in report.problems[0], report.problems


def test_a_wrong_size_in_a_signed_manifest_fails(package):
    def change(manifest, members):
        for item in manifest["files"]:
            if item["path"] == "posts.csv":
                item["size"] += 1
            if item["path"] == "urls.txt":
                item["sha256"] = hashlib.sha256(b"other").hexdigest()

    resigned(package, change)
    report = verify_package(package, KEY.public_key())
    assert any(line.startswith("posts.csv has") for line in report.problems)
    assert "urls.txt does not match its SHA-256 in the manifest" in report.problems


def test_an_encrypted_or_strangely_compressed_member_is_refused(package):
    members = members_of(package)
    with zipfile.ZipFile(package, "w") as archive:
        for name, data in members.items():
            method = zipfile.ZIP_LZMA if name == "posts.csv" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    report = verify_package(package, KEY.public_key())
    assert any("unsupported compression" in line for line in report.problems)


def test_a_package_without_request_texts_fails(package):
    def change(manifest, members):
        manifest["files"] = [f for f in manifest["files"] if not f["path"].startswith("requests/")]
        del members["requests/telegram.en.txt"]

    resigned(package, change)
    report = verify_package(package, KEY.public_key())
    assert report.problems == ["the manifest lists no request text (requests/…)"]
