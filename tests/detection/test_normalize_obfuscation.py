"""Normalisation of the obfuscations independent writers used (detection/corpus) and ordinary
text left alone (the spans of these folds are tested in test_normalize.py)."""

from __future__ import annotations

import pytest

from detection.normalize import normalize


@pytest.mark.parametrize("raw, expected", [
    ("СК*РОСТЬ", "скорость"),                       # an asterisk for a letter
    ("Кл*д 15 мин", "клад 15 мин"),
    ("в б*т*", "в бота"),
    ("Zаклаdки", "закладки"),                       # Latin letters read by sound in a Cyrillic word
    ("м!нёр", "минер"),                             # ! and 1 for и, € for е
    ("М1н3ры", "минеры"),
    ("M€ф", "меф"),
    ("0пл@та", "оплата"),                           # a leading 0 before an obfuscated word
    ("@дресов", "адресов"),                          # "@" before Cyrillic: a letter, not a handle
    ("т@у@р бар", "тауар бар"),                      # "@" between letters is not a separator
    ("ш1шк1", "шишки"),                              # a trailing digit in an obfuscated word
    ("M3ф, k0kс, 6ошки", "меф, кокс, 6ошки"),       # a mixed word in a Russian post
    ("ᴍᴇꜰ", "mef"),                                  # small capitals
    ("🅼🅴🅵 и 🅐🅛🅕🅐", "меф и алфа"),                # negative squared and circled capitals
    ("ᗰEᖴ", "mef"),                                  # Canadian syllabics look like Latin letters
    ("ᏟᎪᏴᎬ", "cabe"),                                # and so does Cherokee
    ("МΣФ ΑΛЬФΑ", "меф альфа"),                      # Greek capitals
    ("ꓘꓡꓮꓓ", "klad"),                                # Lisu capitals
    ("Ḿеф", "меф"),                                  # Latin letters with diacritics
    ("Тоʙар", "товар"),                              # small capital B for в
    ("K/\\ад", "клад"),                              # letters drawn with two symbols
    ("Б о т  в  о п и с а н и и", "бот в описани"),  # the gap between split words is wider
    ("к.л.а.д в т.е.ч.е.н.и.е 10 м.и.н", "клад в течение 10 мин"),
    ("м-е-ф-е-д-р-о-н  т-а-р-а-з", "мефедрон тараз"),
    # A run of split letters that runs into a link is joined up to it; the link stays.
    ("п🔹и🔹ш🔹и🔹т🔹е: t.me/+Qw7rTz", "пишите: t.me/+qw7rtz"),
    ("з а к л а д @x_bot", "заклад @x_bot"),
    ("күнделікті төлем", "кунделикти толем"),       # Kazakh letters to their Russian base
    ("новый", "новыи"),
])
def test_folds_what_writers_wrote(raw, expected):
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw, expected", [
    ("Nuzhny kladmeny i fasovshchiki. Almaty.", "нужны кладмены и фасовщики. алматы."),
    ("Pr1vet Almaty V nal1chii: ga$h, m3f, bo$hki", "привет алматы в наличи: гаш, меф, бошки"),
    ("rabota dlya molodezhi, vyplaty kazhdyj den'", "работа для молодежи, выплаты каждыи день"),
    ("Jumys bar! Kurerler kerek, Almaty. Kunine 30 myn", "жумыс бар! курерлер керек, алматы. кунине 30 мын"),
    ("Qaraǵandy, barlyq aýdan, tólem kaspı", "караганды, барлык аудан, толем каспи"),
    ("Taldykorgan mef/gash. Klad. Ls", "талдыкорган меф/гаш. клад. лс"),
    # Kazakh Latin letters confirm one Kazakh word ("kerek") as a Kazakh post.
    ("Dosyñdy äkel, bonus al! Kur'er jūmysyna adam kerek", "досынды акел, бонус ал! курьер "
                                                            "жумысына адам керек"),
])
def test_transliterated_posts_read_back_into_cyrillic(raw, expected):
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw", [
    "Fresh menu this week, dead drops with photo & GPS. Support 24/7.",
    "We are hiring couriers in Almaty, paid daily in USDT",
    "iPhone 15 Pro Max 256GB",
    "Kaspi Gold",
    "rabota",                      # a lone Latin lexicon term stays as written
    "dead drop",
    "alfa pvp",
    "Grüße aus München, schönes Wetter",  # letters Kazakh shares with German are no sign alone
    "Ukraiiiine qualllity no waittt, Almatyyyy — crystttal, weeeeeed",  # stretched: no "yy" mark
])
def test_english_and_lone_terms_stay_latin(raw):
    assert not any("\u0400" <= c <= "\u04ff" for c in normalize(raw).text)


def test_model_numbers_and_acronyms_stay_in_a_transliterated_post():
    out = normalize("sort AK-47, oplata v USDT trc20, pishi v bota").text
    assert out == "сорт ak-47, оплата в usdt trc20, пиши в бота"


@pytest.mark.parametrize("raw", [
    "легально* (почти)", "5*3=15", "цена 1000€", "Привет!", "1000 тг / 2 шт", "@m1n3r_work",
    "t.me/kl4d_sh0p", "г. Алматы, ул. Абая 10",
])
def test_ordinary_text_is_not_over_folded(raw):
    out = normalize(raw).text
    for keep in ("*", "€", "!", "1000", "@m1n3r_work", "t.me/kl4d_sh0p", "абая 10", "5*3=15"):
        if keep.lower() in raw.lower():
            assert keep.lower() in out
