"""Word lists read by whole words: the report frame's words and the reporting cues
(:mod:`detection.quotes`).

A list is written as words: ``суд`` is that word, ``приговор*`` any word starting with it,
``задержа+`` any longer word starting with it; and phrases, each a regular expression over
several words with the first word (written the same way) that must be present for it to be
tried. :meth:`WordList.word` answers for one word token (a run of ``\\w``) from a dict keyed by
the token's first three letters, instead of a ``\\b(?:…)\\b`` alternation that Python's ``re``
tries at every position, alternative after alternative. A token matches an entry exactly when the
alternation would match it between two word boundaries, so the answers are the same
(tests/detection/test_framewords.py checks them against the alternations over the corpora and
random text).
"""

from __future__ import annotations

import re
from typing import Iterable

__all__ = ["CUES", "FRAME_STRONG", "FRAME_WEAK", "WORD", "WordList"]

WORD = re.compile(r"\w+")
_KEY = 3  # every entry has at least this many letters: the index is by a token's first three
_LITERAL = re.compile(r"[^\\()\[\]?*+|{.^$]*")  # a phrase's literal start, up to its first metachar


def _entry(spec: str) -> tuple[str, int, int]:
    """``(stem, shortest, longest)`` token length for ``суд``, ``приговор*``, ``задержа+``."""
    if spec.endswith("*"):
        return spec[:-1], len(spec) - 1, 1 << 30
    if spec.endswith("+"):
        return spec[:-1], len(spec), 1 << 30
    return spec, len(spec), len(spec)


class WordList:
    """Words and phrases; see the module docstring for the notation. A phrase's first word may be
    any word the phrase holds (``ведитесь`` for ``не ведитесь``): it only decides whether the
    phrase is looked for."""

    def __init__(self, words: str, phrases: Iterable[tuple[str, str]] = ()) -> None:
        self.words = tuple(words.split())
        self.phrases = tuple(phrases)
        self._index: dict[str, list[tuple[str, int, int, int]]] = {}
        self._short: set[str] = set()  # whole words shorter than the index key ("ad")
        for spec in self.words:
            self._add(spec, -1)
        for i, (first, _) in enumerate(self.phrases):
            self._add(first, i)
        # Each phrase alone (to search for any), and all in their order (to find them as one
        # alternation does: the leftmost first, without overlaps, the first alternative winning).
        self._one = [re.compile(rf"\b(?:{p})\b") for _, p in self.phrases]
        self._gate = [_LITERAL.match(p).group() for _, p in self.phrases]
        self._all = re.compile(r"\b(?:" + "|".join(p for _, p in self.phrases) + r")\b")

    def _add(self, spec: str, phrase: int) -> None:
        stem, lo, hi = _entry(spec)
        if not WORD.fullmatch(stem):
            raise ValueError(f"a word list entry must be word characters: {spec!r}")
        if len(stem) < _KEY:
            if lo != hi or phrase >= 0:
                raise ValueError(f"a stem or a phrase's first word needs {_KEY}+ letters: {spec!r}")
            self._short.add(stem)
            return
        self._index.setdefault(stem[:_KEY], []).append((stem, lo, hi, phrase))

    def scan(self, tokens: Iterable[str]) -> tuple[list[str], set[int]]:
        """The ``tokens`` (whole runs of ``\\w``) that are words of the list, and the phrases
        that they can start."""
        index, short = self._index, self._short
        words: list[str] = []
        starts: set[int] = set()
        for token in tokens:
            entries = index.get(token[:_KEY])
            if entries is None:
                if token in short:
                    words.append(token)
                continue
            for stem, lo, hi, phrase in entries:
                if lo <= len(token) <= hi and token.startswith(stem):
                    if phrase < 0:
                        words.append(token)
                    else:
                        starts.add(phrase)
        return words, starts

    def phrase_in(self, text: str, starts: set[int]) -> bool:
        """Whether one of the phrases ``starts`` (from :meth:`scan` of its words) is in ``text``."""
        return any(self._gate[i] in text and self._one[i].search(text) for i in starts)

    def phrase_matches(self, text: str, starts: set[int]) -> list[re.Match]:
        """The phrases in ``text`` as one alternation of them all finds them (``starts``: from
        :meth:`scan` of its words)."""
        if any(self._gate[i] in text for i in starts):
            return list(self._all.finditer(text))
        return []

    def letters(self) -> set[str]:
        """Every letter the list's words and phrases use."""
        return {c for w in self.words for c in w if c.isalpha()} | {
            c for f, p in self.phrases for c in f + p if c.isalpha()}


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
