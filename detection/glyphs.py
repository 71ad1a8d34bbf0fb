"""Character tables shared by the normaliser (which folds look-alikes away) and the obfuscation
generator (which puts them in): Latin/Cyrillic homoglyphs, digits and symbols read as letters,
look-alikes that Unicode normalisation (NFKC) leaves alone, Kazakh letters and their Russian base
letters, and the words obfuscators mask with an asterisk.

Tables only, no logic beyond building them; everything here is a plain constant or a function
that returns a fresh dict, so importing the module costs nothing.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "CYR2LAT", "DIGIT_CYR", "DIGIT_LAT", "INITIAL_CYR", "KAZAKH_BASE", "LAT2CYR", "LAT2CYR_SOUND",
    "MASKED_WORDS",
    "lookalikes",
]

# Latin letters that look like Cyrillic ones (after lower-casing), and the reverse. Each pair of
# strings is written letter for letter. ``b`` reads as ``в`` (``B``/``В``, small capital ``ʙ``).
LAT2CYR = dict(zip("abcehikmnoprtuxy", "авсенікмпоргтиху", strict=True)) | {"b": "в"}
CYR2LAT = dict(zip("авсенікмопргтухѕј", "abcehikmonprtyxsj", strict=True))
# Latin letters with no Cyrillic look-alike, read by sound inside a Cyrillic word (``Zаклаdки``).
LAT2CYR_SOUND = LAT2CYR | dict(zip("dfgjlqsvwz", "дфгжлксввз", strict=True))

# Digits and symbols standing between letters, read as letters (``м3ф``, ``м!нёр``, ``M€ф``).
DIGIT_CYR = {"0": "о", "1": "и", "3": "е", "4": "ч", "6": "б", "!": "и", "€": "е"}
DIGIT_LAT = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "!": "i", "€": "e"}
INITIAL_CYR = {"3": "з", "0": "о"}  # word-initial, before three letters (``3акладки``)

# Kazakh (and a few other Cyrillic) letters folded to the Russian letter they are typed as on a
# Russian keyboard or written as in Latin script (``төлем`` = ``толем`` = ``tolem``), ``ё``, and
# ``й``, which Kazakh Latin writes ``i`` and transliteration ``y``, ``i`` or ``j``.
# (``э`` stays: the lexicons spell some words both ways, ``кладмен`` and ``кладмэн``.)
KAZAKH_BASE = {
    "қ": "к", "ғ": "г", "ң": "н", "ү": "у", "ұ": "у", "ә": "а", "ө": "о", "і": "и", "һ": "х",
    "ё": "е", "й": "и", "җ": "ж", "ҙ": "з", "ҫ": "с", "ҡ": "к", "ӊ": "н", "ӑ": "а", "ӗ": "е",
}

# Look-alikes that NFKC leaves as they are: Greek capitals (read as the Cyrillic letters they
# resemble), Lisu capitals, a few symbols used as letters. Small capitals are added from their
# Unicode names, Latin letters with diacritics from their decomposition (see lookalikes()).
_GREEK = dict(zip("αβγδεζηθικλμνοπρστυφχω", "авгдезноиклмнопретуфхш", strict=True))
_LISU = dict(zip("ꓐꓑꓓꓔꓖꓗꓘꓙꓚꓜꓝꓟꓠꓡꓢꓣꓦꓧꓪꓫꓬꓮꓰꓲꓳꓴ", "bpdtgkkjczfmnlsrvhwxyaeiou", strict=True))
_SYMBOLS = {"ꟽ": "m", "℮": "e", "∂": "д", "ς": "с", "ı": "i", "ý": "u", "ş": "sh", "ç": "ch",
            "ɑ": "a", "ɡ": "g", "ʙ": "в", "ɴ": "n", "ʜ": "h", "ᴦ": "г", "ᴧ": "л", "ᴨ": "п"}

# Letters of other scripts that fancy-text generators use for Latin capitals: Canadian syllabics
# (``ᗰEᖴ``) and Cherokee (``ᏟᎪᏴᎬ``; lower-cased, Python gives the Cherokee small letter).
_SYLLABICS = dict(zip("ᗩᗅᗷᑕᗪᗴᖴᕼᒪᗰᑎᑭᑫᖇᔕᐯᗯ᙭ᘔᑌ", "aabcdefhlmnpqrsvwxzu", strict=True))
_CHEROKEE = dict(zip("ᎪᏴᏟᎬᎻᎫᏦᏞᎷᏢᏚᎢᏙᏔᏃᎡᏀᎥᏒᎩ", "abcehjklmpstvwzrgira", strict=True))


def lookalikes() -> dict[str, str]:
    """Every character folded to a plain letter beyond NFKC, keyed by its lower-case form."""
    table: dict[str, str] = {}
    for lo, hi in ((0x00C0, 0x024F), (0x1E00, 0x1EFF)):
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            base = unicodedata.normalize("NFD", ch)
            if len(base) > 1 and base[0].isascii() and base[0].isalpha() and all(
                    unicodedata.category(c) == "Mn" for c in base[1:]):
                table[ch] = base[0].lower()
    for cp in range(0x1D00, 0x1D2C):
        name = unicodedata.name(chr(cp), "")
        if name.startswith("LATIN LETTER SMALL CAPITAL ") and len(name.split()[-1]) == 1:
            table[chr(cp)] = name.split()[-1].lower()
    for cp in (0xA730, 0xA731, 0x0280, 0x028F, 0x026A, 0x0262, 0x029F):
        name = unicodedata.name(chr(cp), "")
        if "SMALL CAPITAL" in name and len(name.split()[-1]) == 1:
            table[chr(cp)] = name.split()[-1].lower()
    for cp in range(0x1F130, 0x1F18A):  # squared, negative circled and negative squared
        name = unicodedata.name(chr(cp), "")
        if "LATIN CAPITAL LETTER" in name and unicodedata.normalize("NFKC", chr(cp)) == chr(cp):
            table[chr(cp)] = name.split()[-1].lower()
    table.update(_GREEK)
    table.update({k.lower(): v for k, v in _LISU.items()} | _LISU)
    table.update(_SYMBOLS)
    table.update(_SYLLABICS)
    table.update({k.lower(): v for k, v in _CHEROKEE.items()} | _CHEROKEE)
    table.pop("й", None)
    return table


# Words that obfuscators mask with an asterisk for a letter (``Кл*д``, ``СК*РОСТЬ``, ``б*т*``),
# in order of preference when a mask fits several (``б*т*`` reads ``бота``). Only these are
# restored: a masked word is ambiguous without a vocabulary, and a footnote star must stay.
MASKED_WORDS = (
    "клад", "клады", "кладов", "кладмен", "кладмены", "закладка", "закладки", "закладку",
    "закладок", "закладчик", "закладчики", "закладчиков", "прикоп", "тайник", "адрес", "адреса",
    "скорость", "соль", "меф", "мефедрон", "мефа", "гаш", "гашиш", "шишки", "шишка", "бошки",
    "кристалл", "кристаллы", "крис", "альфа", "кокаин", "кокс", "героин", "амфетамин", "экстази",
    "марки", "наркотики", "бот", "бота", "боте", "товар", "магазин", "работа", "работу",
    "курьер", "курьеры", "курьером", "курьеров", "минер", "минеры", "оплата", "баланс", "друга",
    "заказ", "наличии", "вакансия", "заработок", "төлем", "жұмыс", "тауар", "қойма", "есірткі",
)
