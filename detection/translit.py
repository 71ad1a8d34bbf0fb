"""Transliterated Russian and Latin-script Kazakh read back into Cyrillic.

``cyrillic_edits(text, protected)`` looks at the Latin words of a folded (lower-case) text and,
if they read as Russian or Kazakh written in Latin letters (``nuzhny kladmeny``, ``jumys bar,
kurerler kerek``) rather than English, returns the edits that write each of them in Cyrillic
(``нужны кладмены``, ``жумыс бар, курерлер керек``); otherwise no edits. The Cyrillic is the
normaliser's folded alphabet (Kazakh letters as their Russian base letters, ``ё``/``э`` as ``е``),
so the lexicons' Cyrillic terms meet the transliterated post.

The decision is per post: common function words and letter groups of each language are counted
(``v``, ``dlya``, ``zh``, ``-yy`` for Russian; ``bar``, ``kerek``, ``q`` for Kazakh; ``the``,
``and``, ``you`` for English), and the Latin words are read back only if Russian or Kazakh
outweighs English; a lone Latin word needs two signs (``rabota`` in a lexicon stays). Words of
two letters or more without a vowel (``usdt``, ``btc``, ``vhq``) and English words stay. The
letters of the Kazakh Latin alphabets (``ä ğ ı ñ ö ş ū ü``; the folded text has lost them, so
they are counted in the original text, :func:`kazakh_letters`) are Kazakh signs too, once
the post shows one more: ``Dosyñdy äkel… jūmysyna adam kerek`` is Kazakh, ``Grüße`` is not.
"""

from __future__ import annotations

import re

__all__ = ["cyrillic_edits", "kazakh_letters", "to_cyrillic"]

_RU_WORDS = frozenset("""
v na ne ot po za dlya ili est vse vsem net tolko cherez iz bez eto kto gde chto kak vy ty nas
vas uzhe s k u privet nuzhen nuzhny nuzhna pishi pishite rabota rabotaem oplata den nalichii
nalichi tovar zakaz ezhednevno srochno ceny cena tsena tseny gorod rayon rayony dengi vsego
seychas segodnya zavtra novyi novyy novyj staryi staryy zabanili kanal svyazi lichku lichka
ls klad klady zakladka zakladki kladmen kladmeny mef gash shishki boshki opt
""".split())
_KK_WORDS = frozenset("""
bar joq zhoq jok zhok kerek emes jane zhane ushin tek kunde kunine barlyq barlyk audan audany
tauar zhumys jumys tolem jaz zhaz jazynyz zhazynyz bolsa myn qala keldi dayn dayyn dayin arqyly
tez qoima qoyma zhana jana kundelikti tajiribe tazhiribe biz bizge bizde bizdin siz sizge
sizdin ol olar bul osy osynda mynau kim qashan kashan qayda kayda kaida nege turady bolady
keledi beredi alyndy salyndy jazady rahmet rakhmet raqmet salem salemetsiz sagat aptasyna
ayyna aiyna kunige erteng ertenge bugin bugun kazir qazir kepil aqsha aksha kop koktem
jas zhas jastar zhastar mektep oqushy okushy studentter jurgizushi zhurgizushi koligi kolik
""".split())
_EN_WORDS = frozenset("""
the and of to in for is are you your we our with at from by this that it be or not all new get
only just per via can will has have was were they their who what please hi hey here there more
than out up if an my me us any each every when how shop order pay paid daily hours job work
hiring dm stock open fresh drop drops free now today
""".split())
_REPEAT = re.compile(r"(.)\1+")
_STRETCH = re.compile(r"(.)\1{2,}")  # a letter three times or more: a stretched word ("Almatyyyy")
_EN_SQUEEZED = frozenset(_REPEAT.sub(r"\1", w) for w in _EN_WORDS)
_RU_SQUEEZED = frozenset(_REPEAT.sub(r"\1", w) for w in _RU_WORDS)
_KK_SQUEEZED = frozenset(_REPEAT.sub(r"\1", w) for w in _KK_WORDS)
_RU_MARK = re.compile(r"zh|kh|shch|yy|[iy][yj]$|ogo$|aya$|'")
_KK_MARK = re.compile(r"q(?!u)|(?:dyn|din|tyn|tin|nyn|nin|myz|miz|ngyz|ymyz|imiz|nyz|niz)$")
_KK_MARK_ANY = re.compile(r"(?:dyn|din|tyn|tin|nyn|nin|myz|miz|ngyz|nyz|niz)\b")
_RU_MARK_ANY = re.compile(r"zh|kh|shch|yy|[iy][yj]\b|ogo\b|aya\b|'")
_KEEP = frozenset("usdt usdc btc eth trc erc vip bio dm ok online pro vhq qr qiwi".split())
_VOWELS = frozenset("aeiouy")

# A Latin word, not inside a handle, link or number, nor a model number ("ak-47"); written to
# start with its first letter so the engine skips to Latin letters instead of trying each place.
_WORD = re.compile(r"[a-z](?<![\w@.#:][a-z])[a-z'’ʼ]*(?![\w@]|-\d)")

# Longest first; ``y`` and word-final ``i`` are decided by the letter before them (see below).
_RU_GROUPS = {
    "shch": "щ", "zh": "ж", "kh": "х", "ch": "ч", "sh": "ш", "ts": "ц",
    "yu": "ю", "ya": "я", "yo": "е", "ye": "е", "ju": "ю", "ja": "я", "jo": "е",
}
_KK_GROUPS = {"shch": "щ", "zh": "ж", "kh": "х", "ch": "ч", "sh": "ш", "gh": "г", "ts": "ц",
              "ya": "я",
              "yu": "ю", "yo": "е", "ia": "я", "iu": "ю"}
_SINGLE = dict(zip("abcdefghiklmnopqrstuvwz", "абцдефгхиклмнопкрстуввз", strict=True)) | {"x": "кс"}
_CYR_VOWELS = "аеиоуыяюэ"
_GROUP_RE = {
    "ru": re.compile("|".join(sorted(_RU_GROUPS, key=len, reverse=True)) + "|."),
    "kk": re.compile("|".join(sorted(_KK_GROUPS, key=len, reverse=True)) + "|."),
}


def to_cyrillic(word: str, lang: str = "ru") -> str:
    """``word`` (lower-case Latin) written in Cyrillic as Russian (``ru``) or Kazakh (``kk``)
    transliteration reads it; ``'`` is the soft sign."""
    groups = _RU_GROUPS if lang == "ru" else _KK_GROUPS
    out: list[str] = []
    last = len(word)
    for m in _GROUP_RE[lang].finditer(word):
        g = m.group()
        prev = out[-1][-1] if out else ""
        after_vowel = prev in _CYR_VOWELS and prev != ""
        if g == "ts" and lang == "ru" and word.endswith("ya", m.end()) and m.end() + 2 == last:
            out.append("тс")  # trebue-tsya: the reflexive ending -тся, not ц + я
        elif g in groups:
            if g == "yo" and after_vowel:  # ra-yo-ny: й + о, not ё
                out.append("й" + _SINGLE.get(g[1], g[1]))
            elif g == "ye" and lang == "ru" and prev and not after_vowel and prev not in "ьъ":
                out.append("ые")  # proverenn-ye: ые after a consonant, е only at a word start
            else:
                out.append(groups[g])
        elif g == "y":
            if lang == "ru":
                out.append("й" if after_vowel or prev == "" else "ы")
            else:  # Kazakh: ы, but й after а, е, о, и (koyma, reysine, tappay); "auysym" is
                # а-у-ы-с-ы-м: after у it stays ы
                out.append("й" if prev in "аеои" and prev else "ы")
        elif g == "j":
            out.append("ж" if lang == "kk" else "й")
        elif g == "i" and m.end() == last and prev in "ыоае" and prev and lang == "ru":
            out.append("й")  # novyi, kazhdyi
        elif g in "'’ʼ":
            out.append("ь")
        else:
            out.append(_SINGLE.get(g, g))
    return "".join(out)


def _kept(word: str) -> bool:
    """Acronyms and brands that stay Latin: listed, or two letters or more without a vowel."""
    return word in _KEEP or (
        len(word) > 1 and word not in _RU_WORDS and _VOWELS.isdisjoint(word))


_KK_LETTERS = re.compile("[äğıñöşūüÄĞÑÖŞŪÜ]")


def kazakh_letters(text: str) -> int:
    """How many letters of the Kazakh Latin alphabets ``text`` holds (at most 3 count)."""
    n = 0
    for _ in _KK_LETTERS.finditer(text):
        n += 1
        if n == 3:
            break
    return n


def _language(words: list[str], original: str = "") -> str | None:
    joined = " ".join(words)
    # Stretched words ("barrrr") count as what they stretch; one substitution for the post.
    # Letter groups (a Russian "yy") are looked for in the words unstretched, and word by word
    # only if the post has any at all (most have none). A stretch is a repeat too, so a post
    # without a repeat (most) needs neither substitution (each costs a microsecond even idle).
    repeats = _REPEAT.search(joined) is not None
    squeezed = (_REPEAT.sub(r"\1", joined) if repeats else joined).split(" ")
    plain = _STRETCH.sub(r"\1", joined) if repeats else joined
    unstretched = plain.split(" ")
    ru_marks = _RU_MARK_ANY.search(plain) is not None
    kk_marks = "q" in plain or _KK_MARK_ANY.search(plain) is not None
    ru = kk = en = 0
    for w, sq, u in zip(words, squeezed, unstretched, strict=True):
        if sq in _EN_SQUEEZED:
            en += 1
            continue
        if _kept(w):  # "vhq", "qr", "qiwi" say nothing of the language
            continue
        if w in _RU_WORDS or sq in _RU_SQUEEZED or ru_marks and _RU_MARK.search(u):
            ru += 1
        if w in _KK_WORDS or sq in _KK_SQUEEZED or kk_marks and _KK_MARK.search(u):
            kk += 1
    if kk:  # Kazakh Latin letters in the original confirm a Kazakh sign, never make one alone
        kk += kazakh_letters(original)
    if max(ru, kk) <= en or ru + kk < 2 and len(words) < 2:
        return None
    return "kk" if kk > ru else "ru"


def cyrillic_edits(text: str, inside=None, original: str = "") -> list[tuple[int, int, str]]:
    """Edits ``(start, end, cyrillic)`` that read the Latin words of ``text`` back into Cyrillic
    if they are transliterated Russian or Kazakh; ``inside(pos)`` tells protected positions
    (handles, links), whose words are left alone; ``original``: the text before folding, whose
    :func:`kazakh_letters` are counted (only if a Kazakh sign is found)."""
    found = [m for m in _WORD.finditer(text) if not (inside and inside(m.start()))]
    if not found:
        return []
    words = [m.group().rstrip("'’ʼ") for m in found]
    lang = _language(words, original)
    if lang is None:
        return []
    edits = []
    for m, w in zip(found, words, strict=True):
        if w in _EN_WORDS or _kept(w):
            continue
        cyr = to_cyrillic(m.group(), lang)
        if cyr != m.group():
            edits.append((m.start(), m.end(), cyr))
    return edits
