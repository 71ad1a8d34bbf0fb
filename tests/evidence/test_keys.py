"""Signing keys and trusted keys (evidence/keys.py) and archive entry names (evidence/names.py)."""

from __future__ import annotations

import base64
import stat

import pytest

from evidence import keys, names


def test_generate_writes_a_0600_pem_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "keys" / "signing.key"
    key = keys.generate(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    before = path.read_bytes()
    with pytest.raises(keys.KeyProblem, match="already exists"):
        keys.generate(path)
    assert path.read_bytes() == before
    assert keys.fingerprint(keys.load_private_key(path)) == keys.fingerprint(key)
    replaced = keys.generate(path, force=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.fingerprint(replaced) != keys.fingerprint(key)


def test_sign_and_verify_with_pem_and_raw_base64_public_keys(tmp_path):
    key = keys.generate(tmp_path / "k")
    signature = keys.sign(key, b"manifest bytes")
    pem = keys.parse_public_key(keys.public_pem(key))
    raw = keys.parse_public_key(keys.public_b64(key).encode())
    assert keys.fingerprint(pem) == keys.fingerprint(raw) == keys.fingerprint(key)
    assert keys.fingerprint(key) == "sha256:" + __import__("hashlib").sha256(
        base64.b64decode(keys.public_b64(key))).hexdigest()
    assert keys.verify(pem, signature, b"manifest bytes")
    assert not keys.verify(raw, signature, b"manifest bytes!")
    other = keys.generate(tmp_path / "other")
    assert not keys.verify(other.public_key(), signature, b"manifest bytes")
    line = keys.encode_signature(signature)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert keys.decode_signature(line) == signature


@pytest.mark.parametrize("data, reason", [
    (b"hello", "expected PEM or the base64"),
    (base64.b64encode(b"x" * 31), "expected PEM or the base64"),
    (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a readable PEM"),
])
def test_bad_public_keys_say_why(data, reason):
    with pytest.raises(keys.KeyProblem, match=reason):
        keys.parse_public_key(data, "partner.pub")


def test_a_private_key_given_as_public_is_named(tmp_path):
    keys.generate(tmp_path / "k")
    with pytest.raises(keys.KeyProblem, match="this is a private key"):
        keys.load_public_key(tmp_path / "k")


def test_bad_signature_files():
    with pytest.raises(keys.KeyProblem, match="not base64"):
        keys.decode_signature(b"%%%")
    with pytest.raises(keys.KeyProblem, match="64 bytes"):
        keys.decode_signature(base64.b64encode(b"x" * 10))


def test_trusted_keys_add_list_get(tmp_path):
    store = keys.TrustedKeys(tmp_path / "trusted")
    assert store.list() == []
    a = keys.generate(tmp_path / "a").public_key()
    b = keys.generate(tmp_path / "b").public_key()
    store.add("volunteers", a)
    store.add("volunteers", a)  # the same key again is fine
    store.add("police-unit_2", b)
    assert store.list() == [("police-unit_2", keys.fingerprint(b)),
                            ("volunteers", keys.fingerprint(a))]
    assert keys.fingerprint(store.get("volunteers")) == keys.fingerprint(a)
    with pytest.raises(keys.KeyProblem, match="different key is already trusted"):
        store.add("volunteers", b)
    store.add("volunteers", b, replace=True)
    assert keys.fingerprint(store.get("volunteers")) == keys.fingerprint(b)
    with pytest.raises(keys.KeyProblem, match="no key is trusted"):
        store.get("nobody")


@pytest.mark.parametrize("org_id", ["../evil", "Upper", "", "a/b", "a" * 65, "-x", "a\x00"])
def test_org_ids_never_become_paths(tmp_path, org_id):
    store = keys.TrustedKeys(tmp_path / "trusted")
    key = keys.generate(tmp_path / "k").public_key()
    with pytest.raises(keys.KeyProblem, match="organisation id"):
        store.add(org_id, key)
    assert not (tmp_path / "evil.pub").exists()


@pytest.mark.parametrize("name", [
    "/etc/passwd", "../x", "a/../b", "a//b", "a/", "./a", "é.txt", "a b", "a\\b", "a\nb",
    "x" * 201, "", "screenshots/\u202egnp.exe", "C:x",
])
def test_check_name_refuses(name):
    with pytest.raises(names.BadName):
        names.check_name(name)


def test_names_from_refs_and_sets():
    assert names.screenshot_name("P12") == "screenshots/P12.png"
    assert names.request_name("telegram", "kk") == "requests/telegram.kk.txt"
    assert names.subject_ref(3) == "S3" and names.item_ref(10) == "P10"
    for bad in ("../P1", "P0", "X1", "P1/../../a"):
        with pytest.raises(names.BadName):
            names.screenshot_name(bad)
    with pytest.raises(names.BadName):
        names.request_name("../../etc", "ru")
    seen = names.NameSet()
    seen.add("posts.csv")
    with pytest.raises(names.BadName, match="ignoring case"):
        seen.add("POSTS.csv")
    assert names.package_file_name("0f8fad5b-d9cb-469f-a165-70867728950e").endswith(".zip")
    with pytest.raises(names.BadName):
        names.package_file_name("../../x")
