"""The verifier against packages made from the spec: a valid package passes; changing any
single byte of any member, adding or removing a member, a wrong key, a bad signature all fail
with a line saying what is wrong."""

from __future__ import annotations

import base64
import json
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence.verify import verify_package
from tests.evidence.package_maker import (make_package, manifest_bytes, members_of,
                                          rewrite)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "kyran-test.zip"
    make_package(path, KEY)
    return path


MEMBERS = ["manifest.json", "manifest.sig", "posts.csv", "posts.jsonl", "urls.txt",
           "indicators.json", "requests/telegram.en.txt", "report.html", "captures/web.warc.gz",
           "captures/mtproto.jsonl"]


def test_a_valid_package_verifies_with_its_key_and_without(package):
    report = verify_package(package, KEY.public_key())
    assert report.ok, report.problems
    assert report.key_given and report.notes == []
    assert set(report.sizes) == set(MEMBERS) - {"manifest.json", "manifest.sig"}
    unverified = verify_package(package)
    assert unverified.ok and not unverified.key_given
    assert unverified.notes == [f"signed by an unverified key {unverified.fingerprint}"]


def test_every_member_is_covered(package):
    assert sorted(members_of(package)) == sorted(MEMBERS)


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_flipping_any_byte_of_any_member_fails(package, member, where):
    members = members_of(package)
    data = bytearray(members[member])
    index = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[index] ^= 0x01
    members[member] = bytes(data)
    rewrite(package, members)
    report = verify_package(package, KEY.public_key())
    assert not report.ok
    assert any(member in line or "manifest" in line for line in report.problems), report.problems


@pytest.mark.parametrize("member", MEMBERS)
def test_flipping_a_stored_byte_of_any_member_in_the_archive_fails(package, member):
    """The bytes as they sit in the ZIP (compressed): CRC or hash fails, never passes."""
    with zipfile.ZipFile(package) as archive:
        info = archive.getinfo(member)
    raw = bytearray(package.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0x40
    package.write_bytes(bytes(raw))
    assert not verify_package(package, KEY.public_key()).ok


@pytest.mark.parametrize("member", MEMBERS)
def test_removing_any_member_fails(package, member):
    members = members_of(package)
    del members[member]
    rewrite(package, members)
    report = verify_package(package, KEY.public_key())
    assert not report.ok
    assert any(member in line for line in report.problems), report.problems


@pytest.mark.parametrize("name", ["extra.txt", "captures/more.warc.gz", "manifest.tsr"])
def test_adding_a_member_fails(package, name):
    members = members_of(package)
    members[name] = b"added later"
    rewrite(package, members)
    report = verify_package(package, KEY.public_key())
    assert not report.ok
    assert any(name in line for line in report.problems), report.problems


def test_another_key_fails_and_says_so(package):
    report = verify_package(package, OTHER.public_key())
    assert not report.ok
    assert report.problems == [f"manifest.sig does not verify with the given key "
                               f"{report.fingerprint}: the manifest was altered or signed by "
                               "another key"]


def test_a_manifest_resigned_by_another_key_fails_against_the_trusted_one(package):
    members = members_of(package)
    members["manifest.sig"] = base64.b64encode(OTHER.sign(members["manifest.json"]))
    rewrite(package, members)
    assert not verify_package(package, KEY.public_key()).ok
    alone = verify_package(package)  # the embedded key is KEY's: OTHER's signature fails too
    assert not alone.ok


def test_a_consistently_rehashed_manifest_still_needs_the_signature(package):
    """Change a file and its hash in the manifest: only the signature catches it."""
    members = members_of(package)
    manifest = json.loads(members["manifest.json"])
    members["urls.txt"] = b"https://example.org/innocent\n"
    import hashlib

    for item in manifest["files"]:
        if item["path"] == "urls.txt":
            item["sha256"] = hashlib.sha256(members["urls.txt"]).hexdigest()
            item["size"] = len(members["urls.txt"])
    members["manifest.json"] = manifest_bytes(manifest)
    rewrite(package, members)
    report = verify_package(package, KEY.public_key())
    assert [line for line in report.problems if "manifest.sig" in line], report.problems


@pytest.mark.parametrize("signature", [b"", b"not base64 !!", base64.b64encode(b"x" * 64)])
def test_a_bad_signature_file_fails(package, signature):
    members = members_of(package)
    members["manifest.sig"] = signature
    rewrite(package, members)
    assert not verify_package(package, KEY.public_key()).ok


def test_not_a_zip_is_one_line(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"PK\x03\x04 this is not a zip")
    report = verify_package(path)
    assert len(report.problems) == 1 and "not a readable ZIP" in report.problems[0]


def test_a_timestamp_that_is_not_one_fails(package):
    """manifest.tsr and tsa-chain.pem are checked when present (evidence/timestamp.py judges
    the token); garbage in their place never passes."""
    members = members_of(package)
    members["manifest.tsr"] = b"\x30\x03\x02\x01\x00"
    members["tsa-chain.pem"] = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    rewrite(package, members)
    report = verify_package(package, KEY.public_key())
    assert not report.ok
    assert [line for line in report.problems if "manifest.tsr" in line or "tsa-chain" in line]
    assert not [line for line in report.problems if "not listed" in line]


def test_a_timestamp_without_its_chain_fails(package):
    members = members_of(package)
    members["manifest.tsr"] = b"\x30\x03\x02\x01\x00"
    rewrite(package, members)
    assert "manifest.tsr comes without tsa-chain.pem" in \
        verify_package(package, KEY.public_key()).problems


def test_a_member_swapped_after_verification_is_not_extracted(package, tmp_path):
    from evidence.verify import PackageError, extract_checked

    report = verify_package(package, KEY.public_key())
    out = tmp_path / "out"
    out.mkdir()
    assert extract_checked(package, report, "urls.txt", out).read_bytes() == \
        members_of(package)["urls.txt"]
    members = members_of(package)
    members["urls.txt"] = members["urls.txt"].replace(b"t.me", b"t.mx")
    rewrite(package, members)
    with pytest.raises(PackageError, match="urls.txt changed after verification"):
        extract_checked(package, report, "urls.txt", out)
    with pytest.raises(PackageError, match="not in the package"):
        extract_checked(package, report, "../../etc/passwd", out)
    assert sorted(p.name for p in out.iterdir()) == ["member-0.bin", "member-1.bin"]
