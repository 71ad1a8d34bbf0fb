"""RFC 3161 timestamps against a local authority (`openssl ts -reply` behind HTTP on port 0,
certificates made in tmp_path; never a live one): a token over the manifest verifies with the
chain, names its time and signer; any other manifest, another chain, a cut token fail with a
reason; validity is judged at the time of the timestamp; an unreachable authority or a missing
chain file is one clear line."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from evidence.timestamp import (TimestampError, request_timestamp, timestamp_manifest,
                                verify_timestamp)
from tests.evidence.tsa import LocalTsa

MANIFEST = b'{\n "format": "kyran-evidence-package",\n "package_id": "7d3e"\n}'


@pytest.fixture
def tsa(tmp_path):
    authority = LocalTsa(tmp_path / "tsa")
    yield authority
    authority.close()


def test_a_token_over_the_manifest_verifies_with_the_chain(tsa):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    tsr = request_timestamp(tsa.url, MANIFEST, tsa.chain_pem)
    after = datetime.now(timezone.utc)
    ok, when, reason = verify_timestamp(MANIFEST, tsr, tsa.chain_pem)
    assert ok, reason
    assert before - timedelta(seconds=1) <= when <= after + timedelta(seconds=1)
    assert reason == f"timestamped {when:%Y-%m-%dT%H:%M:%SZ} by CN=Kyran Test TSA"
    assert tsa.requests == 1


def test_another_manifest_chain_or_a_cut_token_fails_with_a_reason(tsa, tmp_path):
    tsr = request_timestamp(tsa.url, MANIFEST, tsa.chain_pem)
    ok, when, reason = verify_timestamp(MANIFEST + b" ", tsr, tsa.chain_pem)
    assert not ok and when is not None and "imprint differs" in reason
    other = LocalTsa(tmp_path / "other")
    try:
        ok, _, reason = verify_timestamp(MANIFEST, tsr, other.chain_pem)
        assert not ok and reason.startswith("manifest.tsr does not verify with tsa-chain.pem")
        with pytest.raises(TimestampError, match="does not verify with \\[evidence\\] "
                                                 "timestamp_chain_file"):
            request_timestamp(tsa.url, MANIFEST, other.chain_pem)  # the answer is checked
    finally:
        other.close()
    ok, when, reason = verify_timestamp(MANIFEST, tsr[:-7], tsa.chain_pem)
    assert not ok and when is None and reason.startswith("manifest.tsr is not an RFC 3161")
    ok, _, reason = verify_timestamp(MANIFEST, tsr, b"not a certificate")
    assert not ok and reason.startswith("tsa-chain.pem: the TSA chain is not PEM")
    leaf_only = tsa.tsa.public_bytes(Encoding.PEM)
    ok, _, reason = verify_timestamp(MANIFEST, tsr, leaf_only)
    assert not ok and reason == "tsa-chain.pem: the TSA chain holds no root (self-signed) certificate"


def test_validity_is_judged_at_the_time_of_the_timestamp(tmp_path):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    # Long enough for the request even on a loaded machine, short enough to wait out.
    short = LocalTsa(tmp_path / "short", valid_until=now + timedelta(seconds=10))
    try:
        tsr = request_timestamp(short.url, MANIFEST, short.chain_pem)
    finally:
        short.close()
    while datetime.now(timezone.utc) <= short.valid_until + timedelta(seconds=1):
        time.sleep(0.1)  # until the authority's certificate has expired (a condition, not luck)
    ok, when, reason = verify_timestamp(MANIFEST, tsr, short.chain_pem)
    assert ok, reason  # expired today, valid when it signed
    expired = LocalTsa(tmp_path / "expired", valid_from=now - timedelta(days=10),
                       valid_until=now - timedelta(days=5))
    try:
        with pytest.raises(TimestampError, match="does not verify"):
            request_timestamp(expired.url, MANIFEST, expired.chain_pem)
    finally:
        expired.close()


def test_an_unreachable_authority_or_missing_chain_is_one_line(tsa, tmp_path):
    url = tsa.url
    tsa.close()
    with pytest.raises(TimestampError) as error:
        request_timestamp(url, MANIFEST, tsa.chain_pem, timeout=5)
    message = str(error.value)
    assert message.startswith(f"timestamp authority {url} did not answer: ")
    assert "timestamp_url" in message and "\n" not in message
    with pytest.raises(TimestampError, match="timestamp_chain_file is not"):
        timestamp_manifest(url, None, MANIFEST)
    with pytest.raises(TimestampError, match="timestamp_chain_file .*No such file"):
        timestamp_manifest(url, tmp_path / "missing.pem", MANIFEST)


def test_timestamp_manifest_returns_the_token_and_the_chain(tsa, tmp_path):
    chain = tmp_path / "chain.pem"
    chain.write_bytes(tsa.chain_pem)
    tsr, chain_pem = timestamp_manifest(tsa.url, chain, MANIFEST)
    assert chain_pem == tsa.chain_pem
    assert verify_timestamp(MANIFEST, tsr, chain_pem)[0]


def test_no_change_to_a_token_makes_it_attest_anything_else(tsa):
    """Every single-bit flip (two bits per byte) of a token either fails, or — in the few fields
    CMS leaves unsigned (versions, the signature algorithm's encoding) — still attests the very
    same manifest, time and authority. It never crashes the verifier."""
    tsr = request_timestamp(tsa.url, MANIFEST, tsa.chain_pem)
    genuine = verify_timestamp(MANIFEST, tsr, tsa.chain_pem)
    for position in range(len(tsr)):
        for bit in (0x01, 0x80):
            changed = bytearray(tsr)
            changed[position] ^= bit
            ok, when, reason = verify_timestamp(MANIFEST, bytes(changed), tsa.chain_pem)
            assert not ok or (ok, when, reason) == genuine, position
            assert "\n" not in reason
