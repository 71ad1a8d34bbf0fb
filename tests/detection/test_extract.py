"""Indicator extraction and wallet checksums."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings, strategies as st

from detection import wallets
from detection.extract import extract_indicators

BTC_P2PKH = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
BTC_P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
BTC_BECH32 = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
BTC_TAPROOT = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
XMR = ("44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wf"
       "n3RVGQBEP3A")
ONION = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad"


def kinds(text):
    return [(i.kind, i.value) for i in extract_indicators(text)]


def test_keccak_matches_sha3_permutation_and_known_vector():
    for msg in (b"", b"abc", b"x" * 135, b"y" * 136, b"z" * 300):
        assert wallets.keccak256(msg, pad=0x06) == hashlib.sha3_256(msg).digest()
    assert wallets.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@pytest.mark.parametrize("check, good", [
    (wallets.is_btc, BTC_P2PKH), (wallets.is_btc, BTC_P2SH), (wallets.is_btc, BTC_BECH32),
    (wallets.is_btc, BTC_TAPROOT), (wallets.is_tron, TRON), (wallets.is_eth, ETH),
    (wallets.is_xmr, XMR), (wallets.is_onion_v3, ONION),
])
def test_valid_addresses_pass_and_one_changed_character_fails(check, good):
    assert check(good)
    i = len(good) - 2
    alphabet = "23456789abcdefghijkmnpqrstuvwxyz" if good.islower() else "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    for c in alphabet:
        if c != good[i]:
            assert not check(good[:i] + c + good[i + 1:]), c
            break


def test_eip55_mixed_case_must_match_and_single_case_is_accepted():
    assert wallets.is_eth(ETH.lower())
    assert not wallets.is_eth(ETH[:3] + ETH[3].swapcase() + ETH[4:])  # 'a' -> 'A' breaks EIP-55


def test_telegram_indicators():
    text = ("Пиши @Shop_KZ или бот @mef_almaty_bot, канал t.me/shopkz/123, вход t.me/+AbCdEfGh12345 "
            "и https://t.me/joinchat/XyZ1234567890, tg://resolve?domain=super_bot; почта user@mail.kz")
    found = kinds(text)
    assert ("telegram_handle", "@shop_kz") in found
    assert ("telegram_bot", "@mef_almaty_bot") in found
    assert ("telegram_link", "t.me/shopkz") in found
    assert ("invite_link", "t.me/+AbCdEfGh12345") in found
    assert ("invite_link", "t.me/+XyZ1234567890") in found
    assert ("telegram_bot", "@super_bot") in found
    assert not any(k == "telegram_handle" and "mail" in v for k, v in found)  # an e-mail is no handle


def test_urls_domains_onion():
    text = f"сайт https://Example.KZ/path?a=1. и www.test.ru, зеркало {ONION}.onion, фейк {ONION[:-1]}b.onion"
    found = kinds(text)
    assert ("url", "https://example.kz/path?a=1") in found
    assert ("domain", "example.kz") in found
    assert ("domain", "test.ru") in found
    assert ("onion", ONION + ".onion") in found
    assert sum(1 for k, _ in found if k == "onion") == 1


def test_wallets_in_text_and_spans():
    text = f"BTC {BTC_P2PKH}, USDT TRC20 {TRON}; ETH {ETH}; XMR {XMR}; {BTC_BECH32}"
    inds = extract_indicators(text)
    got = {(i.kind, i.value) for i in inds}
    assert {("btc", BTC_P2PKH), ("tron", TRON), ("eth", ETH.lower()), ("xmr", XMR), ("btc", BTC_BECH32)} <= got
    for i in inds:
        assert text[i.span[0]:i.span[1]] in (BTC_P2PKH, TRON, ETH, XMR, BTC_BECH32)


def test_phones_kazakhstan_and_neighbours_only():
    text = ("звони +7 701 234 56 78 или 8 (747) 123-45-67, кг +996 555 123 456, uz +998 90 123 45 67; "
            "цена 15 000 000 тг, карта 4400 4301 2345 6789, us +1 202 555 0143")
    phones = [v for k, v in kinds(text) if k == "phone"]
    assert phones == ["+77012345678", "+77471234567", "+996555123456", "+998901234567"]


def test_random_strings_of_wallet_shape_are_not_wallets():
    rng = random.Random(7)
    b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    for _ in range(300):
        for prefix, n in (("1", 33), ("3", 33), ("T", 33), ("4", 94)):
            s = prefix + "".join(rng.choice(b58) for _ in range(n))
            assert not [i for i in extract_indicators(f"кошелек {s}") if i.kind in ("btc", "tron", "xmr")]
        hex_mixed = "0x" + "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(40))
        eth = [i for i in extract_indicators(hex_mixed) if i.kind == "eth"]
        assert eth == [] or wallets.is_eth(hex_mixed)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", min_size=26, max_size=40))
def test_no_wallet_from_random_base58(s):
    assert not [i for i in extract_indicators(s) if i.kind in ("btc", "tron")]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_extraction_never_raises_and_spans_are_inside(text):
    for ind in extract_indicators(text):
        assert 0 <= ind.span[0] < ind.span[1] <= len(text)
