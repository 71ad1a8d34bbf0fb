"""Fold obfuscated text into a canonical form for matching, keeping a map back to the original.

``normalize(text)`` returns a :class:`Folded`: ``.text`` is what the lexicons are matched against
and ``.to_original(start, end)`` turns a span of the folded text back into a span of the text the
analyst reads. The folding runs in passes, each linear in the length of the text:

1. characters: Unicode NFKC, lower case, zero-width/format characters, soft hyphens, invisible
   fillers and combining marks (stress marks used to break words) removed; look-alikes NFKC
   leaves (small capitals, Greek and Lisu capitals, Latin letters with diacritics, ``ꟽ``, ``℮``)
   read as the letters they imitate (:mod:`detection.glyphs`); then words with asterisks for
   letters restored (``кл*д``, ``СК*РОСТЬ``) and letters drawn with two symbols (``K/\\ад``);
2. split letters rejoined: three or more single letters separated by up to three separator
   characters (``м е ф``, ``к.л.а.д``, ``з-а-к-л-а-д``) become one word; a wider gap than the one
   between the letters separates two split words (``б о т  в  б и о``);
3. words (:mod:`detection.wordfold`): inside a word that mixes scripts, Latin/Cyrillic homoglyphs
   are folded to the word's script (``MEФEДPOH``, ``Zаклаdки``); digits, ``@``, ``$``, ``!`` and
   ``€`` standing between letters are read as letters (``ск0р0сть``, ``м!нёр``); a leading ``3``/
   ``0`` or a trailing digit of such a word too (``0пл@та``, ``ш1шк1``); Kazakh letters, ``ё`` and
   ``й`` fold to their Russian base letters (``төлем`` = ``толем``);
4. transliteration (:mod:`detection.translit`): the Latin words of a post written in transliterated
   Russian or Latin-script Kazakh are read back into Cyrillic (``nuzhny kladmeny``, ``jumys bar``);
   English stays as it is;
5. squeezing: runs of one repeated letter become one letter (``мееееф``) and whitespace runs
   become one space.

Numbers, prices and handles survive: digits are never squeezed or rejoined with each other, a digit
is read as a letter only inside a word that is otherwise letters, and ``@handles`` and URLs are
left as they are apart from lower case. Lexicon terms are folded by the same function, so a term
and its obfuscated spellings meet in the same folded form.

Cost: each pass is a regex scan or two, and most posts need little of it, so cheap pre-checks
(searches the engine can skip through to a rare character: a Latin letter, a digit, a separator)
decide whether a full scan runs, and a pass that changes no length adds no offset layer (see
:mod:`detection.foldmap`). tests/detection/test_fast_paths.py checks each rewritten pattern and
pre-check against its plain form.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import cache
from sys import maxsize as len_max

from detection.charclass import bitmap_class, char_class
from detection.foldmap import Folded, Layer, apply_edits, squeeze_runs
from detection.glyphs import KAZAKH_BASE, MASKED_WORDS, lookalikes
from detection.translit import cyrillic_edits
from detection.wordfold import fold_word, unmask

__all__ = ["Folded", "Normalizer", "normalize"]

# Invisible characters that are letters or symbols to Unicode (so not category Cf).
_INVISIBLE = "\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5\u034f"
# Code-point ranges scanned for characters that need per-character treatment. Outside them
# characters are copied (lower-cased) as they are; lower-casing is still checked for length.
_SCAN_RANGES = (
    (0x00A0, 0x33FF), (0xA4D0, 0xA4FF), (0xA640, 0xA69F), (0xA720, 0xA7FF), (0xF900, 0xFFFF),
    (0x1D400, 0x1D7FF), (0x1F100, 0x1F2FF), (0xE0000, 0xE007F),
)


# Characters checked at construction to need no per-character treatment (fast path).
_SAFE_RANGES = ((0x00, 0x7F), (0x0400, 0x04FF), (0x2013, 0x2014), (0x2018, 0x201E),
                (0x2022, 0x2022), (0x00AB, 0x00AB), (0x00BB, 0x00BB), (0x00B0, 0x00B0),
                (0x20B8, 0x20B8), (0x2190, 0x21FF), (0x2600, 0x26FF), (0x2700, 0x27BF),
                (0x1F300, 0x1FAFF))


_LETTER_SYMBOLS = frozenset("@$!€")


def _wider(sep: str, other: str) -> bool:
    """Whether ``sep`` separates words where ``other`` separates letters of one word."""
    return len(sep) > len(other) or (
        len(sep) == len(other) and sep.isspace() and not other.isspace())


class Normalizer:
    """Holds the compiled tables; build once (``normalize`` uses a shared lazy instance)."""

    def __init__(self) -> None:
        self._lookalike = lookalikes()
        special: list[int] = []
        for lo, hi in _SCAN_RANGES:
            for cp in range(lo, hi + 1):
                ch = chr(cp)
                if (
                    unicodedata.category(ch) in ("Mn", "Me", "Cf", "Cs", "Co")
                    or unicodedata.normalize("NFKC", ch) != ch
                    or len(ch.lower()) != 1
                    or ch in _INVISIBLE
                    or ch in self._lookalike or ch.lower() in self._lookalike
                ):
                    special.append(cp)
        # Runs of special characters; a run that starts with a combining mark takes in the base
        # character before it (see _pass_chars).
        self._special = re.compile(f"[{char_class(special)}]+")
        # The big class above is slow to scan; most posts hold only ASCII, Cyrillic, common
        # punctuation and emoji, none of them special, which a small class checks ten times faster.
        special_set = set(special)
        safe = [cp for lo, hi in _SAFE_RANGES for cp in range(lo, hi + 1) if cp not in special_set
                and unicodedata.category(chr(cp)) not in ("Mn", "Me", "Cf")]
        self._unsafe = re.compile(f"[^{char_class(safe)}]")
        # A run of single characters: a character starting a word, then two or more times up to
        # three separators (not a newline) and a one-character word. The match starts at the
        # first separator, with the first character checked behind it, so the engine skips over
        # word characters without trying a match at each; the run starts one character earlier.
        # The character two back is checked first: most separators end a longer word.
        self._split = re.compile(
            bitmap_class(r"[\W_]") + r"(?<![^\W_]..)(?<!\n)(?<=[^\W_].)(?<=[\W_])"
            r"(?:(?!\n)[\W_]){0,2}[^\W_](?![^\W_])"
            r"(?:(?:(?!\n)[\W_]){1,3}[^\W_](?![^\W_]))+")
        self._sep = re.compile(r"[^\w\n]+|_+")
        self._mixed = re.compile(r"[a-z][\u0400-\u04ff]|[\u0400-\u04ff][a-z]")
        # ("!" and "€" count only before a letter: "Привет!" is no obfuscation, "м!нер" is.)
        self._digit_in_word = re.compile(
            r"[a-z\u0400-\u04ff][\d@$]|[\d@$!€][a-z\u0400-\u04ff]")
        # Cheap pre-checks for the two patterns above: the same condition (a pair of neighbours)
        # found from its rarer side, a Latin letter or a digit, which the engine skips to without
        # trying a match at every position. Most posts have neither pair and skip the scans.
        self._has_mixed = re.compile(r"[a-z](?:(?<=[\u0400-\u04ff].)|(?=[\u0400-\u04ff]))")
        self._has_digit_in_word = re.compile(
            bitmap_class(r"[\d@$!€]")
            + r"(?:(?<=[a-z\u0400-\u04ff][\d@$])|(?=[a-z\u0400-\u04ff]))(?<=[\d@$!€])")
        self._cyr_letters = re.compile(r"[\u0400-\u04ff]")
        self._lat_letters = re.compile(r"[a-z]")
        # A word with an asterisk for a letter (``кл*д``), and the words it may stand for.
        self._masked = re.compile(r"[^\W\d_]*(?:\*+[^\W\d_]*)+")
        self._mask_words: dict[int, list[str]] = {}
        for word in MASKED_WORDS:
            self._mask_words.setdefault(len(word), []).append(word)
        # Letters drawn with two or more symbols (``K/\\ад``, ``ра$кла)(ка``).
        self._glyphs = re.compile(r"(?<=[^\W\d_]|[@$])(?:/\\|\)\(|\}\{)(?=[^\W\d_]|[@$])")
        # Flat alternation, every branch starting with a literal: the engine skips to "@", "h",
        # "w" or "t" instead of trying a match at each position.
        self._protected = re.compile(r"@[\w]{3,}|https?://\S+|www\.\S+|t\.me/\S+|telegram\.me/\S+")
        # A run of one letter or of spaces: r"([a-z\u0400-\u04ff])\1+| {2,}" checked from the pair
        # (one back-reference, then the class behind it) is 45 % cheaper than trying a group and a
        # repeat at every letter.
        self._squeeze = re.compile(r"(?s)(.)\1(?<=[a-z\u0400-\u04ff ])\1*")
        self._other_space = re.compile(r"[^\S ]")
        # Every non-word character and "_" but the space, which needs no replacing.
        self._nonword = re.compile(bitmap_class(r"[^\w ]|_") + r"(?<=[^\w ]|_)")

    def spaced(self, folded: str) -> str:
        """``folded`` with every non-word character (and ``_``) as a space; same length."""
        # Each match is one character, so joining the pieces between matches with spaces is the
        # substitution (15 % cheaper than sub).
        return " ".join(self._nonword.split(folded))

    # -- pass 1 ---------------------------------------------------------------------------
    def _fold_cluster(self, cluster: str) -> str:
        out = unicodedata.normalize("NFKC", cluster).lower()
        look = self._lookalike
        return "".join(
            look.get(c, c) for c in out
            if unicodedata.category(c) not in ("Mn", "Me", "Cf", "Cs", "Co") and c not in _INVISIBLE
        )

    @staticmethod
    def _lower(seg: str) -> str:
        low = seg.lower()
        if len(low) == len(seg):
            return low
        return "".join(c.lower() if len(c.lower()) == 1 else c for c in seg)

    def _pass_chars(self, text: str) -> tuple[str, Layer | None]:
        if text.isascii() or not self._unsafe.search(text):
            return self._lower(text), None
        edits = []
        prev_end = 0
        for m in self._special.finditer(text):
            start, end = m.span()
            if start > prev_end and unicodedata.category(text[start]) in ("Mn", "Me"):
                start -= 1  # compose with the base character (е + U+0306 -> й)
            edits.append((start, end, self._fold_cluster(text[start:end])))
            prev_end = end
        if not edits:
            return self._lower(text), None
        out, layer = apply_edits(text, edits, self._lower)
        return out, (None if all(layer.linear) else layer)

    # -- pass 1b: masked letters and letters drawn with symbols --------------------------
    def _pass_masked(self, text: str) -> str:
        """``кл*д`` -> ``клад`` (see :func:`detection.wordfold.unmask`); same length."""
        chars: list[str] | None = None
        for m in self._masked.finditer(text):
            word = unmask(m.group(), self._mask_words)
            if word is not None:
                if chars is None:
                    chars = list(text)
                chars[m.start():m.end()] = word
        return text if chars is None else "".join(chars)

    def _pass_glyphs(self, text: str) -> tuple[str, Layer | None]:
        edits = [(m.start(), m.end(), "л" if m.group() == "/\\" else "х")
                 for m in self._glyphs.finditer(text)]
        return apply_edits(text, edits) if edits else (text, None)

    # -- pass 2 ---------------------------------------------------------------------------
    def _pass_split(self, text: str) -> tuple[str, Layer | None]:
        edits: list[tuple[int, int, str]] = []
        protected = None
        for m in self._split.finditer(text):
            start, end = m.start() - 1, m.end()  # the run begins with the character before
            # Only a separator repeated next to itself joins (_join_run), in the run or in any
            # part of it cut at a link: without one ("5 м/с", "2:1 в"), nothing to do.
            seps = self._sep.findall(text, start, end)
            if all(a != b for a, b in zip(seps, seps[1:], strict=False)):
                continue
            if protected is None:
                protected = self._protected_spans(text)
            if protected and self._inside(start, protected):
                continue
            if protected and self._inside(end - 1, protected):
                # The run runs into a link or handle ("д🔹е🔹л🔹и: t.me/…"): join what comes
                # before it, leave the link alone.
                end = next(s for s, e in protected if s <= end - 1 < e)
                while end > start and not text[end - 1].isalnum():
                    end -= 1  # the gap before the link stays a gap
            edits.extend(self._join_run(text[start:end], start))
        if not edits:
            return text, None
        return apply_edits(text, edits)

    def _join_run(self, run: str, base: int) -> list[tuple[int, int, str]]:
        """Deletions that rejoin a run of single characters. Only stretches with the same
        separator throughout are joined (``г Л*С*Д`` joins ``лсд``, not ``глсд``), and only if
        they have three characters or more, two of them letters; letters split by spaces join
        only if no digit is among them (``2 г Л`` is a dose, not a word). A stretch whose
        separator is wider than a neighbouring stretch's is the gap between two split words
        (``б о т  в  о п и с а н и и``, ``к.л.а.д в т.е.ч.е.н.и.е``); ``@`` and ``$`` are letters
        (``т@у@р``)."""
        seps = [(s.start(), s.end(), s.group()) for s in self._sep.finditer(run)]
        stretches: list[tuple[int, int, str]] = []
        i = 0
        while i < len(seps):
            j = i
            while j + 1 < len(seps) and seps[j + 1][2] == seps[i][2]:
                j += 1
            stretches.append((i, j, seps[i][2]))
            i = j + 1
        out: list[tuple[int, int, str]] = []
        for k, (i, j, sep) in enumerate(stretches):
            if j == i or sep in _LETTER_SYMBOLS:
                continue
            near = [stretches[x][2] for x in (k - 1, k + 1)
                    if 0 <= x < len(stretches) and stretches[x][1] > stretches[x][0]]
            if any(_wider(sep, other) for other in near):
                continue
            first, last = seps[i][0] - 1, seps[j][1]  # first and last character of the stretch
            chars = [c for c in run[first:last + 1] if c.isalnum()]
            letters = sum(1 for c in chars if c.isalpha())
            if letters >= 2 and (letters == len(chars) or not sep.isspace()):
                out.extend((base + s, base + e, "") for s, e, _ in seps[i:j + 1])
        return out

    # -- pass 3 ---------------------------------------------------------------------------
    def _protected_spans(self, text: str) -> list[tuple[int, int]]:
        if "@" not in text and "/" not in text and ("w" not in text or "www." not in text):
            return []
        # A Telegram handle is Latin: "@дрес" is a word with "@" for "а", not a handle.
        return [m.span() for m in self._protected.finditer(text)
                if text[m.start()] != "@" or text[m.start() + 1].isascii()]

    @staticmethod
    def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
        i = bisect_right(spans, (pos, len_max)) - 1
        return i >= 0 and spans[i][0] <= pos < spans[i][1]

    @staticmethod
    def _pair_starts(check: re.Pattern, full: re.Pattern, text: str, pos: int = 0) -> list[int]:
        """``[m.start() for m in full.finditer(text)]`` for a pattern of pairs that ``check``
        finds from the rarer side: a match holds a hit of ``check`` at its start or one after, so
        the leftmost match from ``q`` on starts at most one before the next hit, and the full scan
        (slow: it tries every letter) runs from there, a pair at a time. No hit before ``pos``."""
        starts: list[int] = []
        q = 0
        while (hit := check.search(text, max(q, pos))) is not None:
            m = full.search(text, max(q, hit.start() - 1))
            if m is None:
                break
            starts.append(m.start())
            q = m.end()
        return starts

    def _pass_words(self, text: str, protected: list[tuple[int, int]], lat: int) -> str:
        return self._base_letters(self._fold_words(text, protected, lat))

    @staticmethod
    def _base_letters(text: str) -> str:
        """Kazakh letters, ``ё`` and ``й`` as their Russian base (glyphs.KAZAKH_BASE); one
        ``in`` scan per letter is far cheaper than ``str.translate`` over the text."""
        for c, base in KAZAKH_BASE.items():
            if c in text:
                text = text.replace(c, base)
        return text

    def _fold_words(self, text: str, protected: list[tuple[int, int]], lat: int) -> str:
        """``lat``: where the first Latin letter is (-1: none); no mixed word starts before it."""
        chars: list[str] | None = None
        done = -1
        n = len(text)
        starts = self._pair_starts(self._has_mixed, self._mixed, text, lat) if lat >= 0 else []
        digits = self._pair_starts(self._has_digit_in_word, self._digit_in_word, text)
        if digits:
            starts = sorted(starts + digits)
        if not starts:
            return text
        majority: list[bool] = []

        def post_cyr() -> bool:  # counted once, and only for a word that needs it
            if not majority:
                cyr = len(self._cyr_letters.findall(text))
                majority.append(cyr >= len(self._lat_letters.findall(text)))
            return majority[0]

        for p in starts:
            if p < done or (protected and self._inside(p, protected)):
                continue
            start = p
            while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "@$!€"):
                start -= 1
            end = p
            while end < n and (text[end].isalnum() or text[end] in "@$!€"):
                end += 1
            done = end
            word = text[start:end]
            folded = fold_word(word, post_cyr)
            if folded != word:
                if chars is None:
                    chars = list(text)
                chars[start:end] = folded
        return text if chars is None else "".join(chars)

    # -- pass 3b ---------------------------------------------------------------------------
    def _pass_translit(
        self, text: str, protected: list[tuple[int, int]], original: str = ""
    ) -> tuple[str, Layer | None]:
        inside = (lambda pos: self._inside(pos, protected)) if protected else None
        edits = [(s, e, self._base_letters(cyr))
                 for s, e, cyr in cyrillic_edits(text, inside, original)]
        return apply_edits(text, edits) if edits else (text, None)

    # -- pass 4 ---------------------------------------------------------------------------
    def _pass_squeeze(
        self, text: str, protected: list[tuple[int, int]]
    ) -> tuple[str, Layer | None]:
        # Same length: newlines, tabs and other white space -> spaces; newlines, by far the most
        # common, without the regex. (A pure-ASCII text without newline or tab keeps its other
        # control white space, as it always has.)
        if not text.isascii() or "\n" in text or "\t" in text:
            if "\n" in text:
                text = text.replace("\n", " ")
            # White space other than " " is never printable, so a printable text has none.
            if not text.isprintable() and self._other_space.search(text):
                text = self._other_space.sub(" ", text)
        # Each run (of one letter, or of spaces) becomes its first character.
        runs = [m.span() for m in self._squeeze.finditer(text)]
        if protected:  # letters in handles and links are not squeezed
            runs = [r for r in runs if text[r[0]] == " " or not self._inside(r[0], protected)]
        return squeeze_runs(text, runs) if runs else (text, None)

    def normalize(self, text: str) -> Folded:
        """Fold ``text``; see the module docstring for what is folded."""
        layers: list[Layer] = []
        t, layer = self._pass_chars(text)
        if layer:
            layers.append(layer)
        if "*" in t:
            t = self._pass_masked(t)
        # (A two-character "in" costs three times a one-character one: the rare ")" first.)
        if "\\" in t or ")" in t and ")(" in t or "}" in t and "}{" in t:
            t, layer = self._pass_glyphs(t)
            if layer:
                layers.append(layer)
        t, layer = self._pass_split(t)
        if layer:
            layers.append(layer)
        protected = self._protected_spans(t)
        # A word without Latin letters folds to one without (fold_word): one search before the
        # word pass tells both it and transliteration whether there are any.
        lat = self._lat_letters.search(t)
        words = self._pass_words(t, protected, lat.start() if lat else -1)
        t, lat = words, lat and (words is t or self._lat_letters.search(words))
        if lat:  # only Latin words are transliterated
            # Kazakh Latin letters (ñ, ū…) are folded away by now: counted in the original.
            t, layer = self._pass_translit(t, protected, text)
            if layer:
                layers.append(layer)
                protected = self._protected_spans(t)
        t, layer = self._pass_squeeze(t, protected)
        if layer:
            layers.append(layer)
        return Folded(text, t, tuple(layers))


@cache
def default_normalizer() -> Normalizer:
    """The shared normaliser, built on first use (not at import)."""
    return Normalizer()


def normalize(text: str) -> Folded:
    """Fold ``text`` for matching; ``result.to_original(s, e)`` maps spans back."""
    return default_normalizer().normalize(text)
