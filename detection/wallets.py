"""Checksum validation of crypto wallet addresses and Tor v3 onion names.

Each ``is_*`` function takes a candidate string and says whether it is a well-formed address whose
checksum holds, so a random string of the right shape is not reported as a wallet:

- Bitcoin base58 (P2PKH ``1…``, P2SH ``3…``): base58check, version byte 0x00 / 0x05;
- Bitcoin bech32 / bech32m (``bc1…``): BIP-173 / BIP-350, witness program rules;
- TRON (``T…``, where USDT-TRC20 lives): base58check, version byte 0x41;
- Ethereum / ERC-20 (``0x`` + 40 hex): EIP-55 checksum when the case is mixed (an all-lower or
  all-upper address carries no checksum and is accepted as written);
- Monero (``4…`` / ``8…``, 95 or 106 characters): Monero's block base58, network byte,
  Keccak-256 checksum;
- onion v3: base32 public key, checksum (SHA3-256) and version byte 3.

Keccak-256 (the pre-standard padding used by Ethereum and Monero) is not in ``hashlib``; it is
implemented here from the Keccak-f[1600] permutation and checked in the tests against
``hashlib.sha3_256`` (same permutation, different padding).
"""

from __future__ import annotations

import base64
import hashlib

import base58

__all__ = ["is_btc", "is_eth", "is_onion_v3", "is_tron", "is_xmr", "keccak256"]

_ROT = (0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39,
        41, 45, 15, 21, 8, 18, 2, 61, 56, 14)
_MASK = (1 << 64) - 1


def _round_constants() -> list[int]:
    """The 24 Keccak round constants, from the LFSR that defines them."""
    out, r = [], 1
    for _ in range(24):
        rc = 0
        for j in range(7):
            r = ((r << 1) ^ ((r >> 7) * 0x71)) % 256
            if r & 2:
                rc |= 1 << ((1 << j) - 1)
        out.append(rc)
    return out


def _keccak_f(a: list[int], rcs: list[int]) -> list[int]:
    for rc in rcs:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & _MASK)
             for x in range(5)]
        a = [a[i] ^ d[i % 5] for i in range(25)]
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                v, r = a[x + 5 * y], _ROT[x + 5 * y]
                b[y + 5 * ((2 * x + 3 * y) % 5)] = ((v << r) | (v >> (64 - r))) & _MASK if r else v
        a = [b[i] ^ (~b[(i % 5 + 1) % 5 + 5 * (i // 5)] & b[(i % 5 + 2) % 5 + 5 * (i // 5)])
             for i in range(25)]
        a[0] ^= rc
    return a


def keccak256(data: bytes, pad: int = 0x01) -> bytes:
    """Keccak-256 (``pad=0x01``, Ethereum/Monero); ``pad=0x06`` gives SHA3-256."""
    rate = 136
    msg = bytearray(data) + bytes([pad]) + bytes((-len(data) - 1) % rate)
    msg[-1] |= 0x80
    rcs = _round_constants()
    state = [0] * 25
    for off in range(0, len(msg), rate):
        block = msg[off:off + rate]
        for i in range(rate // 8):
            state[i] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        state = _keccak_f(state, rcs)
    return b"".join(state[i].to_bytes(8, "little") for i in range(4))


def _b58check(s: str) -> bytes | None:
    try:
        return base58.b58decode_check(s)
    except ValueError:
        return None


def _is_btc_base58(s: str) -> bool:
    raw = _b58check(s)
    return raw is not None and len(raw) == 21 and raw[0] in (0x00, 0x05)


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32M_CONST = 0x2BC830A3


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _is_btc_bech32(s: str) -> bool:
    if s.lower() != s and s.upper() != s or len(s) > 90:
        return False
    s = s.lower()
    hrp, _, rest = s.rpartition("1")
    if hrp != "bc" or len(rest) < 7 or any(c not in _BECH32 for c in rest):
        return False
    data = [_BECH32.index(c) for c in rest]
    const = _polymod([ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data)
    version = data[0]
    if version > 16 or const != (1 if version == 0 else _BECH32M_CONST):
        return False
    acc = bits = 0
    prog = []
    for v in data[1:-6]:
        acc = (acc << 5) | v
        bits += 5
        while bits >= 8:
            bits -= 8
            prog.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc << (8 - bits)) & 0xFF:
        return False
    if not 2 <= len(prog) <= 40:
        return False
    return version != 0 or len(prog) in (20, 32)


def is_btc(s: str) -> bool:
    """A Bitcoin address (base58check P2PKH/P2SH or bech32/bech32m) with a valid checksum."""
    if s[:3].lower() == "bc1":
        return _is_btc_bech32(s)
    return s[:1] in ("1", "3") and 26 <= len(s) <= 35 and _is_btc_base58(s)


def is_tron(s: str) -> bool:
    """A TRON address (also USDT-TRC20): ``T`` + 33 base58 characters, checksum valid."""
    if len(s) != 34 or s[0] != "T":
        return False
    raw = _b58check(s)
    return raw is not None and len(raw) == 21 and raw[0] == 0x41


def is_eth(s: str) -> bool:
    """An Ethereum address; a mixed-case one must carry a valid EIP-55 checksum."""
    if len(s) != 42 or s[:2] not in ("0x", "0X"):
        return False
    body = s[2:]
    try:
        int(body, 16)
    except ValueError:
        return False
    if body == body.lower() or body == body.upper():
        return True
    digest = keccak256(body.lower().encode()).hex()
    # 40 address characters against a 64-digit hash: only the first 40 digits are used.
    return all(
        (c.isupper() == (int(h, 16) >= 8)) if c.isalpha() else True
        for c, h in zip(body, digest, strict=False)
    )


_XMR_BLOCK = (0, 2, 3, 5, 6, 7, 9, 10, 11)  # encoded length of a block of 0..8 bytes


def _xmr_b58decode(s: str) -> bytes | None:
    alphabet = base58.BITCOIN_ALPHABET.decode()
    out = bytearray()
    for off in range(0, len(s), 11):
        chunk = s[off:off + 11]
        if len(chunk) not in _XMR_BLOCK:
            return None
        size = _XMR_BLOCK.index(len(chunk))
        num = 0
        for c in chunk:
            i = alphabet.find(c)
            if i < 0:
                return None
            num = num * 58 + i
        if num >= 1 << (8 * size):
            return None
        out += num.to_bytes(size, "big")
    return bytes(out)


def is_xmr(s: str) -> bool:
    """A Monero address (standard, subaddress or integrated) with a valid Keccak checksum."""
    if len(s) not in (95, 106) or s[0] not in "48":
        return False
    raw = _xmr_b58decode(s)
    if raw is None or len(raw) not in (69, 77):
        return False
    net = raw[0]
    expected = {69: (18, 42, 24, 36, 53, 63), 77: (19, 25, 54)}[len(raw)]
    if net not in expected:
        return False
    return keccak256(raw[:-4])[:4] == raw[-4:]


def is_onion_v3(name: str) -> bool:
    """A v3 onion service name (56 base32 characters, without ``.onion``) whose checksum holds."""
    if len(name) != 56:
        return False
    try:
        raw = base64.b32decode(name.upper())
    except (ValueError, base64.binascii.Error):
        return False
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34]
    if version != 3:
        return False
    expect = hashlib.sha3_256(b".onion checksum" + pubkey + b"\x03").digest()[:2]
    return checksum == expect
