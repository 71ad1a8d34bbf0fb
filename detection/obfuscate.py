"""Obfuscation generator: the spellings shops use to slip past filters, applied on purpose.

``obfuscate(text, kind, rng)`` rewrites a post with one named obfuscation, seeded by ``rng`` (a
:class:`random.Random`), so a test or a training run is repeatable:

- ``homoglyph``: Cyrillic letters swapped for Latin look-alikes (``МEФEДPOH``), some in each word;
- ``unicode``: Greek look-alikes for Cyrillic letters; for Latin ones full-width forms, negative
  squared capitals (``🅼🅴🅵``) or look-alike letters of other scripts (``ᗰEᖴ``), per word;
- ``split``: letters split by dots, asterisks, dashes, underscores or spaces (``к.л.а.д``), the
  words kept apart by a wider gap when the separator is a space;
- ``mask``: a vowel of a word that obfuscators mask replaced by ``*`` (``кл*д``);
- ``digits``: digits and symbols for letters (``з@кл@дк1``, ``3акладки``, ``$``, ``!``);
- ``emoji``: an emoji between the letters of each word (``т✨о✨в✨а✨р``);
- ``stretch``: a letter repeated (``мееееф``);
- ``translit``: Russian (and Kazakh, informally) transliterated into Latin letters;
- ``latin_kk``: Kazakh in the official Latin alphabet (``ä``, ``q``, ``ş``, ``ñ``).

Only words of three letters or more are touched (every word, for transliteration); handles,
links, numbers and emoji stay. ``augment(records, rng)`` returns obfuscated copies of labelled
records for training.
"""

from __future__ import annotations

import random
import re
from typing import Iterable

from detection.glyphs import LAT2CYR, MASKED_WORDS

__all__ = ["KINDS", "augment", "obfuscate"]

KINDS = ("homoglyph", "unicode", "split", "mask", "digits", "emoji", "stretch", "translit",
         "latin_kk")

_PROTECTED = re.compile(r"@\w+|https?://\S+|www\.\S+|t\.me/\S+|telegram\.me/\S+")
# A word: letters and digits, with "@"/"$" inside (``Р@бота``), starting with a letter.
_WORD = re.compile(r"(?<![^\W_])[^\W\d_](?:[^\W_]|[@$](?=[^\W_]))*")
_CYR = re.compile(r"[\u0400-\u04ff]")

_HOMO = {c: lat for lat, c in LAT2CYR.items() if lat not in "bu"}  # и/u, в/b only in capitals
_HOMO_UPPER = {"В": "B", "Н": "H", "М": "M", "Т": "T", "К": "K"}
_GREEK = dict(zip("авдеклмопртуфх", "αβδεκλμοπρτυφχ", strict=True))
# Canadian syllabics and Cherokee letters that pass for Latin capitals (``ᗰEᖴ``).
_FANCY = dict(zip("abcdefhlmnprsvwz", "ᗩᏴᑕᗪᎬᖴᕼᒪᗰᑎᑭᖇᔕᐯᗯᘔ", strict=True))
_SEPARATORS = (".", "*", "-", "_", " ")
_EMOJI = ("✨", "⭐", "🔹", "▪", "🌟", "➖", "🔸")
_DIGITS = {"а": "@", "о": "0", "е": "3", "и": "1", "ч": "4", "б": "6", "с": "$"}
_VOWELS = "аеиоуыэюяәөүұі"
_MASKED = frozenset(MASKED_WORDS)

_RU_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "'", "ы": "y", "ь": "'", "э": "e", "ю": "yu", "я": "ya",
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}
_KK_LATIN = _RU_LATIN | {
    "ә": "ä", "ғ": "ğ", "қ": "q", "ң": "ñ", "ө": "ö", "ұ": "ū", "ү": "ü", "і": "ı", "ш": "ş",
    "ч": "ç", "ж": "j", "й": "i", "х": "h", "щ": "şş", "ю": "iu", "я": "ia", "ё": "e",
}


def _case(src: str, out: str) -> str:
    return out.upper() if src.isupper() and len(src) == 1 and out.islower() else out


def _homoglyph(word: str, rng: random.Random) -> str:
    spots = [i for i, c in enumerate(word) if c.lower() in _HOMO or c in _HOMO_UPPER]
    if len(spots) < 2 or not _CYR.search(word):
        return word
    chosen = rng.sample(spots, max(1, len(spots) // 2))  # some Cyrillic stays: it is a mix
    out = list(word)
    for i in chosen:
        c = word[i]
        out[i] = _HOMO_UPPER.get(c) or _case(c, _HOMO[c.lower()])
    return "".join(out)


def _unicode(word: str, rng: random.Random) -> str:
    style = rng.choice(("full-width", "squared", "other script"))  # for the Latin letters
    out = []
    for c in word:
        low = c.lower()
        if low in _GREEK and rng.random() < 0.5:
            out.append(_case(c, _GREEK[low]))
        elif len(low) == 1 and "a" <= low <= "z":  # not "i̇", the lower case of "İ"
            if style == "squared":  # negative squared capitals (🅼🅴🅵), which NFKC leaves alone
                out.append(chr(0x1F170 + ord(low) - ord("a")))
            elif style == "other script" and low in _FANCY:
                out.append(_FANCY[low])
            else:
                base = 0xFF41 if c.islower() else 0xFF21  # full-width
                out.append(chr(base + ord(low) - ord("a")))
        else:
            out.append(c)
    return "".join(out)


def _mask(word: str, rng: random.Random) -> str:
    if word.lower() not in _MASKED:
        return word
    inner = [i for i, c in enumerate(word) if c.lower() in _VOWELS and 0 < i < len(word) - 1]
    if not inner or len(word) < 3:
        return word
    i = rng.choice(inner)
    return word[:i] + "*" + word[i + 1:]


def _digits(word: str, rng: random.Random) -> str:
    out = list(word)
    low = word.lower()
    for i in range(1, len(word) - 1):  # never two side by side: "в$3му" reads as nothing
        if low[i] in _DIGITS and out[i - 1].isalpha() and rng.random() < 0.6:
            out[i] = _DIGITS[low[i]]
    if len(word) >= 4 and low[0] in "зо" and out[1].isalpha() and rng.random() < 0.5:
        out[0] = "3" if low[0] == "з" else "0"
    if low[-1] == "а" and out[-2].isalpha() and rng.random() < 0.5:
        out[-1] = "@"
    return "".join(out)


def _stretch(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    return word[:i] + word[i] * rng.randint(2, 5) + word[i + 1:]


def _translit(word: str, table: dict[str, str]) -> str:
    out = []
    for c in word:
        t = table.get(c.lower())
        if t is None:
            out.append(c)
        else:
            out.append(t.capitalize() if c.isupper() else t)
    return "".join(out)


def _words(text: str, fn, shortest: int = 3) -> str:
    """``text`` with ``fn`` applied to every word of ``shortest`` letters or more outside
    handles and links."""
    def one(m: re.Match) -> str:
        word = m.group()
        return fn(word) if sum(c.isalpha() for c in word) >= shortest else word

    out: list[str] = []
    pos = 0
    for p in _PROTECTED.finditer(text):
        out.append(_WORD.sub(one, text[pos:p.start()]))
        out.append(p.group())
        pos = p.end()
    out.append(_WORD.sub(one, text[pos:]))
    return "".join(out)


def obfuscate(text: str, kind: str, rng: random.Random) -> str:
    """``text`` rewritten with the obfuscation ``kind`` (one of :data:`KINDS`)."""
    if kind == "homoglyph":
        return _words(text, lambda w: _homoglyph(w, rng))
    if kind == "unicode":
        return _words(text, lambda w: _unicode(w, rng))
    if kind == "split":
        # A separator the text already has inside words ("мастер-клад") would glue them.
        sep = rng.choice([s for s in _SEPARATORS
                          if not re.search(rf"[^\W_]{re.escape(s)}[^\W_]", text)] or [" "])
        if sep == " ":  # words a wider gap apart, as obfuscators write them
            text = re.sub(r"(?<=\S) (?=\S)", "  ", text)
        return _words(text, lambda w: sep.join(w))
    if kind == "mask":
        return _words(text, lambda w: _mask(w, rng))
    if kind == "digits":
        return _words(text, lambda w: _digits(w, rng))
    if kind == "emoji":
        emoji = rng.choice(_EMOJI)
        return _words(text, lambda w: emoji.join(w))
    if kind == "stretch":
        return _words(text, lambda w: _stretch(w, rng))
    if kind == "translit":
        return _words(text, lambda w: _translit(w, _RU_LATIN), shortest=1)
    if kind == "latin_kk":
        return _words(text, lambda w: _translit(w, _KK_LATIN), shortest=1)
    raise ValueError(f"unknown obfuscation {kind!r}; use one of {', '.join(KINDS)}")


def augment(records: Iterable[dict], rng: random.Random, kinds: Iterable[str] = KINDS,
            copies: int = 1, labels: Iterable[str] | None = None) -> list[dict]:
    """Obfuscated copies of ``records`` (dicts with ``text``; other keys are kept): ``copies``
    per record whose ``label`` is in ``labels`` (all if None), each with a kind drawn from
    ``kinds``; a copy's ``id`` gets ``~kind`` and ``augmented`` names the kind. ``latin_kk`` is
    drawn only for Kazakh records (``lang`` ``kk``)."""
    kinds = tuple(kinds)
    wanted = None if labels is None else frozenset(labels)
    out: list[dict] = []
    for rec in records:
        if wanted is not None and rec.get("label") not in wanted:
            continue
        usable = [k for k in kinds if k != "latin_kk" or rec.get("lang") == "kk"]
        for _ in range(copies):
            kind = rng.choice(usable)
            copy = dict(rec, text=obfuscate(rec["text"], kind, rng), augmented=kind)
            if "id" in rec:
                copy["id"] = f"{rec['id']}~{kind}"
            out.append(copy)
    return out
