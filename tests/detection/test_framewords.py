"""The report frame read by word tokens (detection.framewords) and the pre-checked quote patterns
give exactly what the plain alternations gave: the reference below is detection/quotes.py as it
was before, patterns and all. If a word list changes, change the reference with it."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from detection import framewords, quotes
from detection.obfuscate import KINDS, obfuscate

ROOT = Path(__file__).resolve().parents[2]

PLAIN_QUOTE = re.compile(r"«[^«»]{1,600}»|“[^“”]{1,600}[”“]|„[^„“”]{1,600}[“”]|\"[^\"\n]{1,600}\"|"
                         r"(?<!\w)'[^'\n]{2,300}'(?!\w)")
PLAIN_STRONG = re.compile(
    r"\b(?:задержа\w+|изъя\w+|приговор\w*|уголовн\w+|осужд\w+|осуд\w+|суд|суда|суде|судом|"
    r"полици\w+|полицейск\w+|мвд|кнб|прокурат\w+|прокурор\w*|следстви\w+|следовател\w+|"
    r"обвиняем\w+|подозреваем\w+|оперативник\w*|наркополиц\w+|пресс-служб\w+|"
    r"боял\w*|бояймыз|бояп|заклеил\w*|волонтер\w*|закрасил\w*|закрашива\w+|жалоб\w+|пожаловал\w+|"
    r"вербовк\w+|вербовщик\w*|вербуют|антинаркотическ\w+|"
    r"журналист\w*|редакци\w+|корреспондент\w*|сообщает|сообщили|по данным|"
    r"переслано|транскрипц\w+|"
    r"тюрьм\w*|арестова\w+|киберпол\w*|статистик\w+|реабилитац\w+|ребцентр\w*|психолог\w*|"
    r"интервью|доклад\w*|кампани\w+|лозунг\w*|наркошоп\w*|наркомагазин\w*|наркобизнес\w*|"
    r"наркоторгов\w*|наркосбыт\w*|ваш\w* (?:ребен\w+|дет\w+|сын\w*|доч\w+)|"
    r"жаза кесті|жазасы|ұсталды|ұстады|ұсталған\w*|тәркіле\w+|қылмыс\w*|үкім\w*|"
    r"сот|сотқа|соты|сотталды|"
    r"тергеу\w*|түрме\w*|заңсыз|министрлі\w+|полиция\w*|іім|ішкі істер|еріктілер\w*|ерікті\w*|"
    r"нашақорлыққа қарсы|алдын алу|оңалту\w*|есірткі (?:дүкен|сауда|сатушы)\w*|балаңыз\w*|"
    r"балаларыңыз\w*|сынып сағаты|мектеп психологы|"
    r"zaderzha\w+|ugolovn\w+|verbovk\w+|novosti|narkobiznes\w*|"
    r"arrested|police|court|sentenced|seized|volunteers?|journalists?|forwarded from|ministry|"
    r"officials|researchers|investigators?|prison|"
    r"учител\w+|мұғалім\w*|ұран\w*|деректі фильм\w*|телеарна\w*|сми|упоминани\w+|"
    r"(?:нашли|нашел|обнаружили|found|spotted)\s+(?:канал|бот|чат|аккаунт|channel|bot)\w*)\b")
PLAIN_WEAK = re.compile(
    r"\b(?:родител\w+|осторожно|будьте бдительн\w+|бдительн\w+|не ведитесь|сообщите|сообщайте|"
    r"как распознать|памятка|профилактик\w+|рейд\w*|скриншот\w*|как не стать|"
    r"распространя\w+|объявлени\w+|"
    r"ата-ана\w*|сақ болыңыз|абай болыңыз|хабарландыру\w*|жарнама\w*|"
    r"шағым\w*|қауіп\w*|абай бол\w*|кеңес|мифтер|наркотик\w*|есірткі\w*|"
    r"мошенник\w*|мошенничеств\w*|алаяқ\w*|қарсы|қозғалыс\w*|хабарлама\w*|"
    r"roditeli|soobshayte|vnimanie|новост\w+|фильм\w*|сынып\w*|мой путь|моя история|"
    r"мне было \d+|жасымда|менің атым|"
    r"beware|warning|warn|parents|report)\b")


def plain_read(text: str) -> tuple[tuple[tuple[int, int], ...], bool]:
    """quotes._read as it was: every pattern with its old pre-check."""
    low = quotes._fold(text)
    spans = [(m.start() + 1, m.end() - 1) for m in PLAIN_QUOTE.finditer(text)]
    cue = len(spans)
    for m in quotes._COLON.finditer(low) if ":" in low else ():
        spans.append(quotes._after_colon(text, m.end()))
    for m in quotes._CLAUSE.finditer(low) if any(w in low for w in framewords.CLAUSE_GATES) else ():
        spans.append((m.end(), quotes._sentence_end(text, m.end())))
    for m in quotes._POSTFIX.finditer(low) if "де" in low else ():
        spans.append((quotes._clause_start(text, m.start()), m.start()))
    forwarded = False
    for m in quotes._FORWARD.finditer(low):
        forwarded = True
        if m.end() < len(text):
            spans.append((m.end(), len(text)))
    cue = forwarded or len(spans) > cue
    return tuple((s, e) for s, e in quotes._merge(spans) if e > s), cue


def plain_frame(text: str) -> bool:
    spans, cue = plain_read(text)
    outside = list(text)
    for s, e in spans:
        outside[s:e] = " " * (e - s)
    lowered = quotes._lower("".join(outside))
    own = quotes._unify(lowered)
    if PLAIN_STRONG.search(own):
        return True
    weak = {lowered[m.start():m.end()] for m in PLAIN_WEAK.finditer(own)}
    if cue:
        weak.add(":cue")
    return len(weak) >= 2


def corpus_texts() -> list[str]:
    out = []
    for path in [*sorted((ROOT / "detection/corpus").glob("*.jsonl")),
                 *sorted((ROOT / "detection/corpus/holdout").glob("*.jsonl")),
                 *sorted((ROOT / "tests/data").glob("*.jsonl"))]:
        out += [json.loads(line)["text"] for line in path.open(encoding="utf-8") if line.strip()]
    for path in sorted((ROOT / "detection/corpus").glob("**/*.json")):
        for ch in json.loads(path.read_text(encoding="utf-8")):
            out += [t for t in (ch.get("title"), ch.get("description")) if t]
            out += [p if isinstance(p, str) else p.get("text", "") for p in ch.get("posts", [])]
    return out


def check(text: str) -> None:
    quotes._read.cache_clear()
    spans, cue = plain_read(text)
    assert quotes._read(text)[:2] == (spans, cue), text
    assert quotes.report_frame(text) == plain_frame(text), text


def test_corpora_and_their_obfuscations():
    rng = random.Random(3)
    texts = corpus_texts()
    assert len(texts) > 3000
    for text in texts:
        check(text)
        check(obfuscate(text, rng.choice(KINDS), rng))


def _pieces() -> list[str]:
    """Words of the lists, cut and lengthened, and the phrases' words."""
    out = []
    for wl in (framewords.FRAME_STRONG, framewords.FRAME_WEAK, framewords.CUES):
        for spec in wl.words:
            w = spec.rstrip("*+")
            out += [w, w[:-1], w + "а", w + "ы"]
        for first, phrase in wl.phrases:
            out += re.findall(r"\w+", phrase) + [first.rstrip("*+")]
    return out + ["Ё", "ё", "ı", "ſ", "ᲀолонтер", "ВОЛОНТЁР", "Суд", "S", "ПОЛИЦИЯ", "by",
                  "12", "5", "-", "—", ":", "\n", " ", "  ", ", ", ". ", "«", "»", "“", "”", "„",
                  "\"", "'", "_", "@", "деп жазылған", "деген жарнама", "пишут:", "Forwarded from",
                  "переслано из", "в объявлении сказано", "the ad says", "мне было 15",
                  "будьте бдительны", "ваши дети", "нашли\nканал", "found  bot"]


PIECES = _pieces()


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30), st.lists(st.sampled_from(" \n:.-"),
                                                                min_size=30, max_size=30))
def test_random_texts_of_list_words(words, seps):
    check("".join(w + s for w, s in zip(words, seps, strict=False)))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text(text):
    check(text)


@pytest.mark.parametrize("text", [
    "будьте бдительны", "будьте бдительны, бдительны", "будьте бдительны бдительны",
    "бдительны и будьте бдительны", "родители: репост", "ата-ана ата-аналар", "абай болыңыз, абай бол",
    "мне было 15 мне было 16", "мне было 15а", "ſud", "Ѕуд", "родителıм родителим", "ad: клад",
    "пресс-служба сообщила", "пресс служба", "по данным", "по  данным", "ваши  дети",
])
def test_edges(text):
    check(text)
