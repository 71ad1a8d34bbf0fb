"""The organisation's Ed25519 signing key and its partners' trusted public keys.

A private key is a PEM (PKCS#8, unencrypted) file of mode 0600, written once (`generate` refuses
to overwrite one unless told to). Public keys are read as PEM or as the base64 of the raw 32
bytes (the form a manifest embeds). A key is named by its fingerprint, ``sha256:<hex>`` of the
raw 32 bytes. Trusted keys live in one directory as ``<org_id>.pub`` (PEM), the org id checked
before it becomes a file name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crawler.config_base import IDENTIFIER as ORG_ID

MAX_KEY_FILE = 16 * 1024  # a key file is a few hundred bytes; never read a huge file whole


class KeyProblem(ValueError):
    """A key could not be made, read, or stored: the message says which and why."""


def check_org_id(org_id: str) -> str:
    """The organisation id, or KeyProblem: it becomes a file name, so only a-z 0-9 - _."""
    if not isinstance(org_id, str) or not ORG_ID.fullmatch(org_id):
        raise KeyProblem(f"organisation id {org_id!r} is not valid: expected lower-case letters, "
                        "digits, - and _ (at most 64, e.g. 'volunteers')")
    return org_id


def _write_private(path: Path, data: bytes, *, force: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if force:
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyProblem(f"{path} already exists: not overwritten (use --force to replace the "
                        "key; packages signed with the old one then verify only with it)") from None
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def generate(path: Path | str, *, force: bool = False) -> Ed25519PrivateKey:
    """A new private key written to `path` (mode 0600, PEM); KeyProblem if one is there and not
    `force`."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        _write_private(Path(path), pem, force=force)
    except OSError as exc:
        raise KeyProblem(f"{path}: cannot write the key: {exc.strerror}") from None
    return key


def _read(path: Path | str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise KeyProblem(f"{path}: cannot read the key: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE:
        raise KeyProblem(f"{path}: not a key file (larger than {MAX_KEY_FILE} bytes)")
    return data


def _raw_b64(data: bytes) -> bytes | None:
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _parse(data: bytes, where: str, private: bool):
    what = "private" if private else "public"
    wanted = Ed25519PrivateKey if private else Ed25519PublicKey
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(data, password=None) if private \
                else serialization.load_pem_public_key(data)
        except (ValueError, TypeError) as exc:
            hint = " (this is a private key: give its public key, `kyran keys show --pem`)" \
                if not private and b"PRIVATE KEY" in data else ""
            plain = "unencrypted " if private else ""
            raise KeyProblem(f"{where}: not a readable {plain}PEM {what} key{hint} ({exc})") \
                from None
        if not isinstance(key, wanted):
            raise KeyProblem(f"{where}: not an Ed25519 key")
        return key
    raw = _raw_b64(data)
    if raw is None:
        raise KeyProblem(f"{where}: not an Ed25519 {what} key (expected PEM or the base64 of "
                         "32 raw bytes)")
    return wanted.from_private_bytes(raw) if private else wanted.from_public_bytes(raw)


def parse_private_key(data: bytes, where: str = "key") -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM or from the base64 of its raw 32 bytes."""
    return _parse(data, where, private=True)


def parse_public_key(data: bytes, where: str = "key") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM or from the base64 of its raw 32 bytes."""
    return _parse(data, where, private=False)


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    return parse_private_key(_read(path), str(path))


def load_public_key(path: Path | str) -> Ed25519PublicKey:
    return parse_public_key(_read(path), str(path))


def public_raw(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The raw 32 public bytes in base64 (as a manifest's `signing_key.public_key`)."""
    return base64.b64encode(public_raw(key)).decode("ascii")


def public_pem(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """``sha256:<hex>`` of the raw 32-byte public key."""
    return "sha256:" + hashlib.sha256(public_raw(key)).hexdigest()


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def verify(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True if `signature` is `key`'s signature of `data`."""
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def encode_signature(signature: bytes) -> bytes:
    """The signature as `manifest.sig` holds it: base64, one line."""
    return base64.b64encode(signature) + b"\n"


def decode_signature(data: bytes) -> bytes:
    """The signature bytes of a `manifest.sig`; KeyProblem if it is not one."""
    try:
        signature = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyProblem("manifest.sig: not base64") from None
    if len(signature) != 64:
        raise KeyProblem(f"manifest.sig: an Ed25519 signature is 64 bytes, not {len(signature)}")
    return signature


class TrustedKeys:
    """Partners' public keys in a directory, one ``<org_id>.pub`` (PEM) per organisation."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def path(self, org_id: str) -> Path:
        return self.directory / f"{check_org_id(org_id)}.pub"

    def add(self, org_id: str, key: Ed25519PublicKey, *, replace: bool = False) -> Path:
        """Trust `key` for `org_id`; KeyProblem if another key is trusted for it and not
        `replace` (the same key again is fine)."""
        path = self.path(org_id)
        if path.exists() and not replace:
            if fingerprint(self.get(org_id)) == fingerprint(key):
                return path
            raise KeyProblem(f"a different key is already trusted for {org_id} ({path}): remove "
                            "it first if the partner changed keys")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(public_pem(key))
            os.replace(tmp, path)
        except OSError as exc:
            raise KeyProblem(f"{path}: cannot write the key: {exc.strerror}") from None
        return path

    def get(self, org_id: str) -> Ed25519PublicKey:
        """The key trusted for `org_id`; KeyProblem if none is."""
        path = self.path(org_id)
        if not path.is_file():
            raise KeyProblem(f"no key is trusted for organisation {org_id!r} (kyran keys trust "
                            f"{org_id} KEYFILE)")
        return load_public_key(path)

    def list(self) -> list[tuple[str, str]]:
        """(org_id, fingerprint) of every trusted key, by org id; unreadable files are listed
        with the reason in place of the fingerprint."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.pub")):
            org_id = path.name[: -len(".pub")]
            if not ORG_ID.fullmatch(org_id):
                continue
            try:
                found.append((org_id, fingerprint(load_public_key(path))))
            except KeyProblem as exc:
                found.append((org_id, f"unreadable: {exc}"))
        return found
