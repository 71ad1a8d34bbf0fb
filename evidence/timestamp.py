"""RFC 3161 timestamps over a package's manifest (`rfc3161-client`): proof from a third party,
the timestamp authority (TSA), that manifest.json existed unchanged at a given time.

`request_timestamp` sends a TimeStampReq (SHA-256 of the manifest, a nonce, the TSA's
certificate requested) over HTTP to the configured authority, and keeps the answer only when it
verifies against the authority's certificate chain (`[evidence] timestamp_chain_file`, PEM),
which the package carries as `tsa-chain.pem`. `verify_timestamp` is what `kyran verify` runs:
the token's message imprint must be SHA-256(manifest.json), its signature must verify up to a
self-signed root in the chain, and the certificates are judged valid at the time of the
timestamp, not today (a TSA certificate that has expired since still vouches for its past
tokens). A chain in a package only proves the token is consistent with it; whether that root
is trusted is the reader's decision, so the verifier reports which authority signed.

What a token attests (imprint, time, authority) cannot be changed, but its bytes are not unique:
CMS leaves a few fields unsigned (structure versions, the signature algorithm's encoding) and an
ECDSA signature has two valid forms, so a manifest.tsr can be altered and still verify, always
saying the same thing. Nothing else in a package can bind its bytes: it is made after the manifest.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509

from crawler.defang import one_line

SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
MAX_REPLY = 1024 * 1024  # bytes of a TSA's answer
TIMEOUT = 30  # seconds for the authority to answer


def _reason(exc: BaseException) -> str:
    """A library's error on one line, cut to a readable length."""
    line = one_line(str(exc)) or type(exc).__name__
    return line if len(line) <= 300 else line[:299] + "…"


class TimestampError(Exception):
    """No timestamp could be had or checked (one line: what failed and what to do)."""


def load_chain(chain_pem: bytes) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """(roots, intermediates) of a PEM chain: roots are the self-signed certificates."""
    try:
        certificates = x509.load_pem_x509_certificates(chain_pem)
    except ValueError as exc:
        raise TimestampError(f"the TSA chain is not PEM certificates: {_reason(exc)}") from None
    roots = [c for c in certificates if c.issuer == c.subject]
    if not roots:
        raise TimestampError("the TSA chain holds no root (self-signed) certificate")
    return roots, [c for c in certificates if c.issuer != c.subject]


def _verifier(chain_pem: bytes, request=None):
    from rfc3161_client import VerifierBuilder

    roots, intermediates = load_chain(chain_pem)
    builder = VerifierBuilder.from_request(request) if request is not None else VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    for certificate in intermediates:
        builder = builder.add_intermediate_certificate(certificate)
    return builder.build()


def _signer(response) -> str:
    """The name of the authority's certificate that signed the token."""
    infos = list(response.signed_data.signer_infos)
    for der in response.signed_data.certificates:
        certificate = x509.load_der_x509_certificate(der)
        if infos and certificate.serial_number == infos[0].serial_number:
            return one_line(certificate.subject.rfc4514_string())
    return "an authority not named in the token"


def verify_timestamp(manifest_bytes: bytes, tsr: bytes,
                     chain_pem: bytes) -> tuple[bool, datetime | None, str]:
    """(ok, time of the timestamp, reason): the reason says what failed, or who signed."""
    from rfc3161_client import VerificationError, decode_timestamp_response

    try:
        response = decode_timestamp_response(tsr)
        info = response.tst_info
        when = info.gen_time
    except Exception as exc:  # noqa: BLE001 - the parser's errors are many kinds
        return False, None, f"manifest.tsr is not an RFC 3161 timestamp: {_reason(exc)}"
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    if info.message_imprint.hash_algorithm != SHA256_OID:
        return False, when, "manifest.tsr is not over SHA-256 of manifest.json"
    if info.message_imprint.message != hashlib.sha256(manifest_bytes).digest():
        return False, when, "manifest.tsr is over another manifest.json (imprint differs)"
    try:
        _verifier(chain_pem).verify_message(response, manifest_bytes)
    except TimestampError as exc:
        return False, when, f"tsa-chain.pem: {exc}"
    except (VerificationError, ValueError) as exc:
        return False, when, f"manifest.tsr does not verify with tsa-chain.pem: {_reason(exc)}"
    return True, when, f"timestamped {when.strftime('%Y-%m-%dT%H:%M:%SZ')} by {_signer(response)}"


def request_timestamp(url: str, manifest_bytes: bytes, chain_pem: bytes,
                      timeout: float = TIMEOUT) -> bytes:
    """The DER TimeStampResp of the authority at `url` over the manifest, verified against
    `chain_pem` (and the request's nonce); TimestampError when none can be had."""
    from rfc3161_client import (HashAlgorithm, TimestampRequestBuilder, VerificationError,
                                decode_timestamp_response)

    request = (TimestampRequestBuilder().data(manifest_bytes)
               .hash_algorithm(HashAlgorithm.SHA256).nonce(nonce=True)
               .cert_request(cert_request=True).build())
    post = urllib.request.Request(url, data=request.as_bytes(), method="POST",
                                  headers={"Content-Type": "application/timestamp-query",
                                           "Accept": "application/timestamp-reply"})
    try:
        with urllib.request.urlopen(post, timeout=timeout) as answer:  # noqa: S310 - http(s) only
            body = answer.read(MAX_REPLY + 1)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TimestampError(f"timestamp authority {url} did not answer: {_reason(reason)}"
                             "; check [evidence] timestamp_url, or empty it to export without "
                             "a timestamp") from None
    if len(body) > MAX_REPLY:
        raise TimestampError(f"timestamp authority {url} answered more than {MAX_REPLY} bytes")
    try:
        response = decode_timestamp_response(body)
    except ValueError as exc:
        raise TimestampError(f"timestamp authority {url} answered no RFC 3161 response: "
                             f"{_reason(exc)}") from None
    if response.status not in (0, 1):  # granted, granted with modifications
        said = one_line("; ".join(response.status_string or [])) or "no reason given"
        raise TimestampError(f"timestamp authority {url} refused: status {response.status} "
                             f"({said})")
    try:
        _verifier(chain_pem, request).verify_message(response, manifest_bytes)
    except TimestampError as exc:
        raise TimestampError(f"[evidence] timestamp_chain_file: {exc}") from None
    except (VerificationError, ValueError) as exc:
        raise TimestampError(f"timestamp authority {url} answered a token that does not verify "
                             f"with [evidence] timestamp_chain_file: {_reason(exc)}") from None
    return response.as_bytes()


def timestamp_manifest(url: str, chain_file: Path | None,
                       manifest_bytes: bytes) -> tuple[bytes, bytes]:
    """(manifest.tsr, tsa-chain.pem) for a package, from the configured authority."""
    if chain_file is None:
        raise TimestampError("[evidence] timestamp_url is set but timestamp_chain_file is not: "
                             "give the authority's certificate chain (PEM)")
    try:
        chain_pem = Path(chain_file).read_bytes()
    except OSError as exc:
        raise TimestampError(f"[evidence] timestamp_chain_file {chain_file}: "
                             f"{exc.strerror or exc}") from None
    return request_timestamp(url, manifest_bytes, chain_pem), chain_pem
