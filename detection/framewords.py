"""Word lists read by whole words: the report frame's words and the reporting cues
(:mod:`detection.quotes`).

A list is written as words: ``суд`` is that word, ``приговор*`` any word starting with it,
``задержа+`` any longer word starting with it; and phrases, each a regular expression over
several words, with a word of it (written the same way) that must be present for it to be tried.
:data:`WORDS` finds the words of all lists in one Aho-Corasick pass over a text (pyahocorasick,
as :mod:`detection.matcher`), keeping those that start a word (a run of ``\\w``) of the right
length, instead of ``\\b(?:…)\\b`` alternations that Python's ``re`` tries at every position,
alternative after alternative. A word matches an entry exactly when the alternation would match
it between two word boundaries, so the answers are the same (tests/detection/test_framewords.py
checks them against the alternations over the corpora and random text). The same pass also
reports which of a few gate words (:data:`CLAUSE_GATES`…) occur anywhere in the text, so the
quote patterns that need them are not run on a text without them.
"""

from __future__ import annotations

import re
from typing import AbstractSet, Iterable, NamedTuple, Sequence

import ahocorasick

__all__ = ["CLAUSE_GATES", "CUES", "FORWARD_GATES", "FRAME_STRONG", "FRAME_WEAK", "POSTFIX_GATES",
           "TWIN_GATES", "WORDS", "Found", "WordList", "Words"]

_WORD = re.compile(r"\w+")
_LITERAL = re.compile(r"[^\\()\[\]?*+|{.^$]*")  # a phrase's literal start, up to its first metachar


def _entry(spec: str) -> tuple[str, int, int]:
    """``(stem, shortest, longest)`` word length for ``суд``, ``приговор*``, ``задержа+``."""
    stem = spec.rstrip("*+")
    if not _WORD.fullmatch(stem):
        raise ValueError(f"a word list entry must be word characters: {spec!r}")
    if spec.endswith("*"):
        return stem, len(stem), 1 << 30
    if spec.endswith("+"):
        return stem, len(stem) + 1, 1 << 30
    return stem, len(stem), len(stem)


class WordList:
    """Words and phrases; see the module docstring for the notation. A phrase's word may be any
    word it holds (``ведитесь`` for ``не ведитесь``): it only decides whether it is looked for."""

    def __init__(self, words: str, phrases: Iterable[tuple[str, str]] = ()) -> None:
        self.words = tuple(words.split())
        self.phrases = tuple(phrases)
        # Each phrase alone (to search for any), and all in their order (to find them as one
        # alternation does: the leftmost first, without overlaps, the first alternative winning).
        self._one = [re.compile(rf"\b(?:{p})\b") for _, p in self.phrases]
        self._gate = [_LITERAL.match(p).group() for _, p in self.phrases]
        self._all = re.compile(r"\b(?:" + "|".join(p for _, p in self.phrases) + r")\b")

    def phrase_in(self, text: str, starts: Iterable[int]) -> bool:
        """Whether one of the phrases ``starts`` (:attr:`Found.phrases`) is in ``text``."""
        return any(self._gate[i] in text and self._one[i].search(text) for i in starts)

    def phrase_matches(self, text: str, starts: Iterable[int]) -> list[re.Match]:
        """The phrases in ``text`` as one alternation of them all finds them (``starts``:
        :attr:`Found.phrases` of the text)."""
        if any(self._gate[i] in text for i in starts):
            return list(self._all.finditer(text))
        return []

    def letters(self) -> set[str]:
        """Every letter the list's words and phrases use."""
        return {c for w in self.words for c in w if c.isalpha()} | {
            c for f, p in self.phrases for c in f + p if c.isalpha()}


class Found(NamedTuple):
    """What one list has in a text: the spans of its words, and the phrases worth looking for."""

    words: Sequence[tuple[int, int]]
    phrases: AbstractSet[int]


class Words:
    """Several word lists, found together in one pass."""

    def __init__(self, *lists: WordList, substrings: Iterable[str] = ()) -> None:
        self.lists = lists
        self.substrings = tuple(substrings)
        entries: dict[str, list[tuple[int, int, int, int]]] = {}
        for k, wl in enumerate(lists):
            phrases = [(first, i) for i, (first, _) in enumerate(wl.phrases)]
            for spec, phrase in [(spec, -1) for spec in wl.words] + phrases:
                stem, lo, hi = _entry(spec)
                entries.setdefault(stem, []).append((lo, hi, k, phrase))
        for sub in self.substrings:
            entries.setdefault(sub, [])
        self._automaton = ahocorasick.Automaton()
        for stem, found in entries.items():
            sub = stem if stem in self.substrings else None
            self._automaton.add_word(stem, (len(stem), tuple(found), sub))
        self._automaton.make_automaton()
        self._none = tuple(Found((), frozenset()) for _ in lists)

    def find(self, text: str) -> Sequence[Found]:
        """Per list, its words in ``text`` (lower-cased) and the phrases they may start. Most
        texts hold none of the words: they all get one shared, empty (read-only) answer."""
        return self.scan(text)[0]

    def scan(self, text: str) -> tuple[Sequence[Found], AbstractSet[str]]:
        """:meth:`find`, and which of :attr:`substrings` occur in ``text``, anywhere (in the
        same pass)."""
        out = subs = None
        for last, (size, entries, sub) in self._automaton.iter(text):
            if sub is not None:
                if subs is None:
                    subs = set()
                subs.add(sub)
                if not entries:
                    continue
            start = last + 1 - size
            if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
                continue  # not at a word start (\w is what re reads as alphanumeric, and "_")
            if out is None:
                out = [Found([], set()) for _ in self.lists]
                ends: dict[int, int] = {}  # word start -> word end
            end = ends.get(start)
            if end is None:
                end = ends[start] = _WORD.match(text, start).end()
            for lo, hi, k, phrase in entries:
                if lo <= end - start <= hi:
                    if phrase < 0:
                        out[k].words.append((start, end))
                    else:
                        out[k].phrases.add(phrase)
        return self._none if out is None else out, _NO_SUBSTRINGS if subs is None else subs


_NO_SUBSTRINGS: AbstractSet[str] = frozenset()
_FOUND = r"\s+(?:канал|бот|чат|аккаунт|channel|bot)\w*"

# Words of a report about others: one decides alone.
FRAME_STRONG = WordList(
    """
    задержа+ изъя+ приговор* уголовн+ осужд+ осуд+ суд суда суде судом
    полици+ полицейск+ мвд кнб прокурат+ прокурор* следстви+ следовател+
    обвиняем+ подозреваем+ оперативник* наркополиц+
    боял* бояймыз бояп заклеил* волонтер* закрасил* закрашива+ жалоб+ пожаловал+
    вербовк+ вербовщик* вербуют антинаркотическ+
    журналист* редакци+ корреспондент* сообщает сообщили
    переслано транскрипц+
    тюрьм* арестова+ киберпол* статистик+ реабилитац+ ребцентр* психолог*
    интервью доклад* кампани+ лозунг* наркошоп* наркомагазин* наркобизнес*
    наркоторгов* наркосбыт*
    жазасы ұсталды ұстады ұсталған* тәркіле+ қылмыс* үкім*
    сот сотқа соты сотталды
    тергеу* түрме* заңсыз министрлі+ полиция* іім еріктілер* ерікті*
    оңалту* балаңыз* балаларыңыз*
    zaderzha+ ugolovn+ verbovk+ novosti narkobiznes*
    arrested police court sentenced seized volunteer volunteers journalist journalists
    ministry officials researchers investigator investigators prison
    учител+ мұғалім* ұран* телеарна* сми упоминани+
    """,
    (("пресс", r"пресс-служб\w+"), ("данным", "по данным"),
     ("ваш*", r"ваш\w* (?:ребен\w+|дет\w+|сын\w*|доч\w+)"), ("жаза", "жаза кесті"),
     ("ішкі", "ішкі істер"), ("нашақорлыққа", "нашақорлыққа қарсы"), ("алдын", "алдын алу"),
     ("есірткі", r"есірткі (?:дүкен|сауда|сатушы)\w*"), ("сынып", "сынып сағаты"),
     ("мектеп", "мектеп психологы"), ("forwarded", "forwarded from"),
     ("деректі", r"деректі фильм\w*"),
     *((w, w + _FOUND) for w in ("нашли", "нашел", "обнаружили", "found", "spotted"))))

# Words of a warning or a report that need a second sign. "бдительн…" is a phrase, so that
# "будьте бдительны" counts once, as the alternation finds it.
FRAME_WEAK = WordList(
    """
    родител+ осторожно сообщите сообщайте памятка профилактик+ рейд* скриншот*
    распространя+ объявлени+ хабарландыру* жарнама* шағым* қауіп* кеңес мифтер
    наркотик* есірткі* мошенник* мошенничеств* алаяқ* қарсы қозғалыс* хабарлама*
    roditeli soobshayte vnimanie новост+ фильм* сынып* жасымда
    beware warning warn parents report
    """,
    (("будьте", r"будьте бдительн\w+"), ("бдительн+", r"бдительн\w+"),
     ("ведитесь", "не ведитесь"), ("как", "как распознать"), ("как", "как не стать"),
     ("ата", r"ата-ана\w*"), ("сақ", "сақ болыңыз"), ("абай", "абай болыңыз"),
     ("абай", r"абай бол\w*"), ("мой", "мой путь"), ("моя", "моя история"),
     ("мне", r"мне было \d+"), ("менің", "менің атым")))

# The reporting cues before a colon (detection.quotes._COLON): a post without one of these words
# has no such cue, and the cue pattern is not run.
CUES = WordList(
    """
    пишет пишут написан* сказано говорится гласит текст* объявлени* формулировк* фраз*
    цитат* цитиру* скрин* транскрипц* надпис* сообщени* предлага* обеща*
    нашли нашел обнаружили found spotted примерно вроде такого следующего
    жазыл* жазад* хабарландыру* жарнама* мәтін*
    says said reads wrote writes text ad message channel
    """)

# Words without which detection.quotes' clause, forward and Kazakh closing-cue patterns cannot
# match; those patterns need not start at a word start, so these are looked for anywhere (by
# Words.scan, in the pass that finds the lists' words) instead of a substring search each.
CLAUSE_GATES = ("объявлени", "предлагают", "обещают", "зазывают", "пишут", "призывают", "the ")
FORWARD_GATES = ("forwarded from", "переслано ", "репост из")
POSTFIX_GATES = ("деп ", "деген ")
# The rare letters detection.quotes._unify replaces (dotless "ı"…): a text holding none (nearly
# every text) is its own unified form.
TWIN_GATES = tuple("ıſẛᲀᲁᲂᲃᲄᲅᲆᲇᲈ")

WORDS = Words(FRAME_STRONG, FRAME_WEAK, CUES,
              substrings=CLAUSE_GATES + FORWARD_GATES + POSTFIX_GATES + TWIN_GATES)
