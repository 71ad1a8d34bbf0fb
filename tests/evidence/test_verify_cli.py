"""`kyran verify` as a user runs it, with no store and no configuration: exit 0 valid, 1 invalid
(one line per problem), 2 a key or package that cannot be read."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence.keys import public_b64, public_pem
from tests.conftest import run_kyran
from tests.evidence.package_maker import make_package, members_of, rewrite

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NO_CONFIG = {"KYRAN_CONFIG": "/nonexistent/kyran.toml"}  # verify must not need one


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "kyran-test.zip"
    make_package(path, KEY)
    return path


@pytest.mark.parametrize("form", ["pem", "base64"])
def test_a_valid_package_with_the_key(tmp_path, package, form):
    key_file = tmp_path / "partner.pub"
    key_file.write_bytes(public_pem(KEY) if form == "pem" else public_b64(KEY).encode())
    result = run_kyran("verify", str(package), "--key", str(key_file), env=NO_CONFIG)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kyran-test.zip: valid, package ")
    assert "from a, key sha256:" in result.stdout and "unverified" not in result.stdout


def test_without_a_key_the_embedded_one_is_named_unverified(package):
    result = run_kyran("verify", str(package), env=NO_CONFIG)
    assert result.returncode == 0, result.stderr
    assert "note: signed by an unverified key sha256:" in result.stdout


def test_an_invalid_package_is_one_line_per_problem(package):
    members = members_of(package)
    members["posts.csv"] += b"x"
    members["../../evil"] = b"x"
    rewrite(package, members)
    result = run_kyran("verify", str(package), env=NO_CONFIG)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "kyran-test.zip: INVALID (2 problems)"
    assert any("posts.csv has" in line for line in lines)
    assert any("'..' segment" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_json_report(package):
    members = members_of(package)
    members["manifest.sig"] = base64.b64encode(b"x" * 64) + b"\n"
    rewrite(package, members)
    result = run_kyran("verify", str(package), "--json", env=NO_CONFIG)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["key_verified"] is False
    assert report["problems"][0].startswith("manifest.sig does not verify")


@pytest.mark.parametrize("content, says", [
    (b"not a key", "not an Ed25519 public key"),
    (b"-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n", "this is a private key"),
])
def test_an_unreadable_key_is_exit_2(tmp_path, package, content, says):
    key_file = tmp_path / "bad.pub"
    key_file.write_bytes(content)
    result = run_kyran("verify", str(package), "--key", str(key_file), env=NO_CONFIG)
    assert result.returncode == 2
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_missing_package_is_exit_2(tmp_path):
    result = run_kyran("verify", str(tmp_path / "nope.zip"), env=NO_CONFIG)
    assert result.returncode == 2 and "does not exist" in result.stderr
