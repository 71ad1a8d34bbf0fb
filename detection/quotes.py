"""Reported speech and the report frame: telling a post that *is* an ad from one that *quotes* one.

Volunteers' raid reports, news items, court reports and warnings quote shop and recruiter texts
word for word. Two functions, shared by the rules and the learned model:

- :func:`reported_spans` — character spans of the original text that are someone else's words:
  text in quotation marks (« » “ ” „ “ " " ' '), what follows a reporting cue and its colon
  (``пишут:``, ``текст объявления:``, ``"we found a channel that…:"``, ``на скриншоте:``,
  ``хабарландыруда:``), the clause a cue introduces (``в объявлении сказано, что …``), the
  clause before a Kazakh closing cue (``… деп жазылған``), and everything after a
  ``Forwarded from`` / ``Переслано из`` line.
- :func:`report_frame` — whether the post, read *outside* those spans, is a report about others:
  police, court and news wording, volunteers' raids and complaints, warnings to parents, or the
  reporting cues themselves.

Being quoted alone changes nothing (a shop quotes its customers' reviews); a quote inside a report
frame is a report about an ad. The cues are short regular expressions and the frame's words are
word lists (:mod:`detection.framewords`), both over lower-cased text (``ё`` read as ``е``); the
lexicons handle obfuscation, these handle the frame around it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from detection.framewords import (
    CLAUSE_GATES, FORWARD_GATES, FRAME_STRONG, FRAME_WEAK, POSTFIX_GATES, TWIN_GATES, WORDS, Found)

__all__ = ["report_frame", "reported_spans"]

# Opening mark -> closing marks. Straight double quotes pair with each other.
# Every branch starts with its mark (the engine skips to one; the apostrophe checks behind it
# that no letter comes before).
_QUOTE = re.compile(r"«[^«»]{1,600}»|“[^“”]{1,600}[”“]|„[^„“”]{1,600}[“”]|\"[^\"\n]{1,600}\"|"
                    r"'(?<!\w.)[^'\n]{2,300}'(?!\w)")
# Cues after which, up to a colon on the same line, someone else's words follow.
_COLON_CUES = (
    r"пиш[еу]т|написан\w*|сказано|говорится|гласит|текст\w*|объявлени\w*|формулировк\w*|фраз\w*|"
    r"цитат\w*|цитиру\w*|скрин\w*|транскрипц\w*|надпис\w*|сообщени\w*|предлага\w*|обеща\w*|"
    r"(?:нашли|нашел|обнаружили|found|spotted)\s+(?:канал|бот|чат|аккаунт|channel|bot)\w*|"
    r"примерно так|вроде|такого содержания|следующего содержания|"
    r"жазыл\w*|жазад\w*|хабарландыру\w*|жарнама\w*|мәтін\w*|"
    r"says|said|reads|wrote|writes|text|ad|message|channel")
_COLON = re.compile(rf"\b(?:{_COLON_CUES})\b[^\n:]{{0,60}}:")  # "ad", not "adres"
# Cues that introduce a clause of reported content without a colon.
_CLAUSE = re.compile(
    r"(?:в объявлени\w* (?:сказано|говорится|написано)|объявлени\w* (?:вида|типа|вроде|о том)|"
    r"(?:предлагают|обещают|зазывают|пишут|призывают)(?= )|"
    r"the (?:ad|post|message) (?:says|said|offers|reads))")
# Kazakh: the quoted clause comes first, the cue closes it.
_POSTFIX = re.compile(r"\b(?:деп (?:жазылған|жазады|жазды|жазып|жазған|жазыпты|айтылған|"
                      r"көрсетілген)|деген (?:жарнама|хабарландыру|жазу|жазба|сөз)\w*)")
_FORWARD = re.compile(r"^[^\n]{0,20}(?:forwarded from|переслано (?:из|от)|репост из)[^\n]*$",
                      re.M)
_SENTENCE_END = re.compile(r"[.!?…]\s|\n")
# Letters that re.IGNORECASE matches to another letter beside simple lower case (Python's
# re._casefix), for the scripts of the patterns above; tests/detection/test_speed_quotes.py checks
# the folding against re.IGNORECASE over every code point.
_CASE_TWINS = str.maketrans({"ı": "i", "ſ": "s", "ẛ": "ṡ", "ᲀ": "в", "ᲁ": "д", "ᲂ": "о",
                             "ᲃ": "с", "ᲄ": "т", "ᲅ": "т", "ᲆ": "ъ", "ᲇ": "ѣ", "ᲈ": "ꙋ"})
_HAS_TWIN = re.compile("[ıſẛᲀ-ᲈ]")
REACH = 600  # reported speech a cue introduces is at most this long (and scans stay linear)

# The words of a report about others, read outside the reported spans, are in
# detection.framewords: strong ones decide alone, weak ones (warnings) need a second word; shop
# posts use "внимание" and "фейк", so those are not there, and recruiters write "родителям не
# говори", so parents are weak.


def _lower(text: str) -> str:
    """Lower case with ``ё`` as ``е``; same length as ``text``, so spans carry over."""
    return text.lower().replace("ё", "е")


def _unify(low: str) -> str:
    """``low`` with the rare letters case-insensitive matching reads as another (dotless ``ı``
    as ``i``, long ``ſ`` as ``s``, the old Cyrillic ``ᲀ`` as ``в``…) replaced by it: the patterns
    above then match without ``re.IGNORECASE`` exactly what they would with it (re.I makes
    Python's ``re`` try every alternative of a long word list in turn, 5x slower). One
    character for one, so spans carry over."""
    return low.translate(_CASE_TWINS) if _HAS_TWIN.search(low) else low


def _fold(text: str) -> str:
    """:func:`_lower`, then :func:`_unify`: the text the patterns read."""
    return _unify(_lower(text))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _after_colon(text: str, start: int) -> tuple[int, int]:
    """What a cue's colon introduces: the rest of its sentence, or the next line when the colon
    ends one (a transcribed screenshot on its own line). Quotes are found on their own, so a
    sentence end inside a quote cuts nothing short. At most :data:`REACH` characters."""
    end = _line_end(text, start)
    if text[start:end].strip():
        return start, min(end, _sentence_end(text, start))
    while end < len(text) and end - start < REACH and text[end] in " \t\r\n":
        end += 1
    return start, _line_end(text, end)


def _line_end(text: str, start: int) -> int:
    limit = min(len(text), start + REACH)
    end = text.find("\n", start, limit)
    return limit if end < 0 else end


def _sentence_end(text: str, start: int) -> int:
    limit = min(len(text), start + REACH)
    m = _SENTENCE_END.search(text, start, limit)
    return limit if m is None else m.start() + 1


def _clause_start(text: str, end: int) -> int:
    """Where the clause ending at ``end`` begins (a Kazakh closing cue reports it)."""
    low = max(0, end - REACH)
    pos = max(text.rfind(c, low, end) for c in ".!?\n:—")
    return low if pos < 0 else pos + 1


@lru_cache(maxsize=256)  # a post is read by the rules and the model: the same text twice
def _read(text: str) -> tuple[tuple[tuple[int, int], ...], bool, Sequence[Found], str, str]:
    """The reported spans, whether any cue introduces someone else's words, the words of the
    word lists in the lower-cased text (strong and weak frame words, cues), and that text before
    and after :func:`_unify`."""
    lowered = low = _lower(text)
    words, gates = WORDS.scan(lowered)
    if gates and not gates.isdisjoint(TWIN_GATES):  # else ``lowered`` is its own _unify
        low = _unify(lowered)  # _fold(text)
        words, gates = WORDS.scan(low)
    # Every quote starts with its mark: a text without one (most) is not scanned for quotes.
    has_mark = "«" in text or '"' in text or "'" in text or "“" in text or "„" in text
    spans = [(m.start() + 1, m.end() - 1) for m in _QUOTE.finditer(text)] if has_mark else []
    cue = len(spans)
    # Each pattern runs only on a text holding words it cannot match without (most hold none):
    # the cues, or the gate words WORDS.scan found anywhere in ``low``.
    for m in _COLON.finditer(low) if ":" in low and words[2].words else ():
        spans.append(_after_colon(text, m.end()))
    for m in _CLAUSE.finditer(low) if gates and not gates.isdisjoint(CLAUSE_GATES) else ():
        spans.append((m.end(), _sentence_end(text, m.end())))
    for m in _POSTFIX.finditer(low) if gates and not gates.isdisjoint(POSTFIX_GATES) else ():
        spans.append((_clause_start(text, m.start()), m.start()))
    forwarded = False
    for m in _FORWARD.finditer(low) if gates and not gates.isdisjoint(FORWARD_GATES) else ():
        forwarded = True
        if m.end() < len(text):
            spans.append((m.end(), len(text)))
    if not spans:
        return (), forwarded, words, lowered, low
    cue = forwarded or len(spans) > cue
    return tuple((s, e) for s, e in _merge(spans) if e > s), cue, words, lowered, low


def _spans(text: str) -> tuple[tuple[int, int], ...]:
    return _read(text)[0]


def reported_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of ``text`` that are quoted or reported speech, sorted and
    non-overlapping. They say where someone else's words are, not that they are an ad."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    return list(_spans(text))


def _outside(text: str) -> str:
    """``text`` with its reported spans blanked (same length)."""
    spans = _spans(text)
    if not spans:
        return text
    parts, pos = [], 0
    for s, e in spans:
        parts += [text[pos:s], " " * (e - s)]
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


def report_frame(text: str) -> bool:
    """Whether the post is a report about others (news, police, court, raid report, warning):
    one strong reporting word, or two weak signs: distinct warning words outside the reported
    spans, or a cue that introduces someone else's words."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    spans, cue, words, lowered, own = _read(text)
    if spans:
        lowered = _lower(_outside(text))
        own = _unify(lowered)
    strong, weak_words = WORDS.find(own)[:2] if spans else words[:2]
    if not (strong.words or strong.phrases or weak_words.words or weak_words.phrases):
        return False  # (most posts) no word of either list: at most the cue, one weak sign
    if strong.words or FRAME_STRONG.phrase_in(own, strong.phrases):
        return True
    weak = {lowered[s:e] for s, e in weak_words.words}
    if weak_words.phrases:
        weak.update(lowered[m.start():m.end()]
                    for m in FRAME_WEAK.phrase_matches(own, weak_words.phrases))
    if cue:
        weak.add(":cue")  # someone else's words are introduced: a weak sign of a report
    return len(weak) >= 2


def inside(span: tuple[int, int], spans: list[tuple[int, int]] | tuple[tuple[int, int], ...]
           ) -> bool:
    """Whether ``span`` lies within one of ``spans`` (sorted, non-overlapping)."""
    s, e = span
    return any(a <= s and e <= b for a, b in spans)
