"""Generate the labelled detection sets once: ``detection_dev.jsonl`` and ``detection_heldout.jsonl``.

Run ``python tests/data/make_detection_sets.py`` to rewrite both files (deterministic: the same
seed gives the same files). The posts are synthetic but written after the real thing: shop
adverts, courier recruitment, and many hard negatives (anti-drug news and police reports,
prevention campaigns, warnings to parents, rehab centres, legitimate courier and warehouse jobs,
pharmacies, bath and pickling salt, pine cones, crystals, hair dryers, stamps, geocaching,
game-account escrow, crypto exchanges, internet speed, mushrooms). All handles, bots and phone
numbers are fictional.

The held-out set is written from its own templates (phrasings, openings, orders of information)
and is not used to tune the lexicons or rules; its figures are the honest ones. Shared are only
the slot vocabularies (cities, prices, handle parts) and the obfuscation functions. A first
held-out set (v1) was retired into the development set once its errors had been looked at; the
current one (v2) was written before any detector ran on it.

Each line: ``{"id", "text", "label", "kind", "lang"}``; ``kind`` is ``sale``, ``recruitment``,
``hard/<topic>`` for hard negatives or ``easy`` for ordinary posts.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from detection_templates import DEV_ALL, HELDOUT, SLOTS  # noqa: E402

_CHOICE = re.compile(r"\[\[([^\[\]]*)\]\]")
_SLOT = re.compile(r"\{(\w+)\}")

HOMO = dict(zip("аеорсхуАЕОРСХКМТН", "aeopcxyAEOPCXKMTH", strict=True))
ZW = ("\u200b", "\u200c", "\u00ad", "\u2060")


def handle(rng: random.Random, bot: bool | None = None) -> str:
    first = rng.choice(SLOTS["handle_a"])
    second = rng.choice(SLOTS["handle_b"])
    name = f"{first}_{second}" if rng.random() < 0.6 else f"{first}{second}"
    if bot if bot is not None else rng.random() < 0.4:
        name += rng.choice(["_bot", "bot", "_robot"])
    return name


def price(rng: random.Random) -> str:
    n = rng.choice([5, 7, 8, 10, 12, 15, 18, 20, 25, 30, 35, 40, 45, 60])
    style = rng.random()
    if style < 0.4:
        return f"{n} 000 тг"
    if style < 0.6:
        return f"{n}000₸"
    if style < 0.8:
        return f"{n}к"
    return f"{n} тыс тенге"


def dose(rng: random.Random) -> str:
    return rng.choice(["0.5г", "0,5 г", "1г", "1 г", "2г", "3 гр", "5г", "1 шт", "2 шт", "0.3г", "10 г"])


def phone(rng: random.Random) -> str:
    op = rng.choice(["701", "702", "705", "707", "747", "771", "775", "777", "778"])
    a, b, c = rng.randint(100, 999), rng.randint(10, 99), rng.randint(10, 99)
    return rng.choice([f"+7 {op} {a} {b} {c}", f"8 ({op}) {a}-{b}-{c}", f"+7{op}{a}{b}{c}"])


def obfuscate(word: str, rng: random.Random) -> str:
    style = rng.randrange(6)
    if style == 0:  # Latin homoglyphs
        return "".join(HOMO.get(c, c) if rng.random() < 0.6 else c for c in word)
    if style == 1:  # split letters
        sep = rng.choice([" ", ".", "-", "*"])
        return sep.join(word)
    if style == 2:  # digits for letters
        return word.replace("о", "0").replace("е", "3", 1)
    if style == 3:  # zero-width characters inside
        i = rng.randrange(1, max(2, len(word)))
        return word[:i] + rng.choice(ZW) + word[i:]
    if style == 4:  # stretched letters
        i = rng.randrange(len(word))
        return word[:i] + word[i] * rng.randint(2, 4) + word[i:]
    return word.upper()


def fill(template: str, rng: random.Random, obf: float) -> str:
    text = template
    for _ in range(4):  # nested choices resolve from the inside out
        new = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), text)
        if new == text:
            break
        text = new

    def slot(m: re.Match) -> str:
        name = m.group(1)
        if name == "handle":
            return "@" + handle(rng, bot=False)
        if name == "bot":
            return "@" + handle(rng, bot=True)
        if name == "link":
            return "t.me/" + handle(rng, bot=False)
        if name == "invite":
            return "t.me/+" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789") for _ in range(16))
        if name == "price":
            return price(rng)
        if name == "dose":
            return dose(rng)
        if name == "phone":
            return phone(rng)
        if name == "n":
            return str(rng.randint(2, 40))
        value = rng.choice(SLOTS[name])
        if name in SLOTS["_obfuscable"] and rng.random() < obf:
            value = obfuscate(value, rng)
        return value

    return _SLOT.sub(slot, text)


def generate(templates: dict, seed: int, prefix: str) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for (label, kind, lang), (count, texts) in templates.items():
        obf = 0.3 if label != "none" else 0.0
        seen: set[str] = set()
        made = attempts = 0
        while made < count and attempts < count * 20:
            attempts += 1
            text = fill(rng.choice(texts), rng, obf)
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "label": label, "kind": kind, "lang": lang.removesuffix("-v1")})
            made += 1
    rng.shuffle(rows)
    for i, row in enumerate(rows, 1):
        row["id"] = f"{prefix}-{i:04d}"
    return [{"id": r["id"], "text": r["text"], "label": r["label"], "kind": r["kind"], "lang": r["lang"]}
            for r in rows]


def write(rows: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    dev = generate(DEV_ALL, seed=20240601, prefix="dev")
    held = generate(HELDOUT, seed=20240917, prefix="held")
    write(dev, HERE / "detection_dev.jsonl")
    write(held, HERE / "detection_heldout.jsonl")
    for name, rows in (("dev", dev), ("heldout", held)):
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["label"]] = counts.get(r["label"], 0) + 1
        hard = sum(1 for r in rows if r["kind"].startswith("hard/"))
        print(f"{name}: {len(rows)} posts {counts}, hard negatives {hard}")


if __name__ == "__main__":
    main()
