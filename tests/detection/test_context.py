"""Context that lowers only reports about others; cover stories, payment words, words that double
as roles; mixed posts. Each case is checked on the bundled lexicons and rules."""

from __future__ import annotations

import json

import pytest

AD = "Меф 1г — 15 000 тг, клады по всем районам за 15 минут. Бот: @snow_city_bot"


def test_an_ad_is_a_sale(detector):
    v = detector.score(AD)
    assert v.category == "sale" and v.score > 0.9
    assert not any(m.reported for h in v.hits for m in h.matches)


@pytest.mark.parametrize("report", [
    "Волонтёры закрасили на гаражах надпись «{ad}». Жалобу отправили в полицию.",
    "Полиция предупреждает: в чатах распространяют объявление «{ad}». Не ведитесь!",
    "Еріктілер ескертеді: қабырғаларда «{ad}» деген жазулар бар. Біз оларды бояп жатырмыз.",
])
def test_a_report_quoting_the_ad_is_not_a_sale(detector, report):
    v = detector.score(report.format(ad=AD))
    assert v.category == "none"
    assert any(h.rule == "context.report_frame" for h in v.hits)
    # the quoted matches are marked, and the bot it names is still an indicator (a lead)
    assert any(m.reported for h in v.hits for m in h.matches)
    assert ("telegram_bot", "@snow_city_bot") in {(i.kind, i.value) for i in v.indicators}


def test_reported_flag_reaches_the_stored_verdict(detector):
    v = detector.score(f"Волонтёры закрасили надпись «{AD}» у школы, полиция в курсе.")
    d = json.loads(json.dumps(v.to_dict(), ensure_ascii=False))
    flags = [m.get("reported", False) for h in d["hits"] for m in h["matches"]]
    assert any(flags)
    assert d["categories"] == ["none"]


@pytest.mark.parametrize("text, category", [
    # school students addressed as workers: recruitment; a warning about such ads: not
    ("Школьникам 14+ подработка после уроков: раскладывать закладки по району, оплата каждый "
     "день, родителям говорить не обязательно. Пиши @fast_job_kz", "recruitment"),
    ("Родители, внимание! Школьникам 14+ пишут: «подработка, раскладывать закладки, оплата "
     "каждый день». Это вербовка, сообщите в полицию 102.", "none"),
    # cover-story goods through a stash: a sale; the same goods from a shop, bookmarks: not
    ("Соли для ванн, ароматные кристаллы 🛁 Выдача только через клад, в наличии по всем районам. "
     "Пишите оператору @relax_salt_kz", "sale"),
    ("Соли для ванн, ароматные кристаллы 🛁 с лавандой. Магазин косметики в ТРЦ, доставка "
     "курьером по Алматы. Звоните +7 701 123 45 67", "none"),
    ("Закладки для книг 📚 магнитные, набор из 5 штук — 2 000 ₸. Пункт выдачи в центре. "
     "Бот: @bookmarks_store_bot", "none"),
])
def test_context_of_the_readers_own_action_and_of_goods(detector, text, category):
    assert detector.score(text).category == category


def test_kaspi_via_an_exchanger_does_not_make_a_shop_legitimate(detector):
    base = "Клады по районам Алматы, магнит и прикоп. Пиши оператору @op_alm_shop"
    with_kaspi = detector.score(base + ". Оплата Kaspi через обменник или USDT")
    assert with_kaspi.category == "sale"
    assert with_kaspi.scores["sale"] >= detector.score(base).scores["sale"]
    assert not any(h.rule.startswith("context.legit") for h in with_kaspi.hits)


@pytest.mark.parametrize("text", [
    "Требуется трафаретчик для дорожной разметки. Официальное трудоустройство, соцпакет, "
    "оклад 300 000 тг. Резюме на hh.kz",
    "Пиццерияға курьер керек 🍕 Күнделікті төлем, ауысым кешкі, велосипедпен. Тел: +7 707 000 11 22",
    "Менің атым Асхат. 18 жасымда закладчик болдым, кейін тұтынушы болдым. Қазір оңалту "
    "орталығында басқаларға көмектесемін.",
    "Нужен садовник в частный дом: газон, деревья, 3 раза в неделю. Рекомендации обязательны.",
])
def test_words_that_double_as_roles_stay_negative(detector, text):
    assert detector.score(text).category == "none"


def test_a_price_list_with_a_line_for_couriers_is_a_shop_that_recruits(detector):
    v = detector.score("ПРАЙС: меф 1г — 30к, гаш 1г — 10к, шишки 1г — 9к. Клады по всем районам, "
                       "бот @city_price_bot.\nP.S. Нужны курьеры-закладчики, оплата за точку, "
                       "пиши оператору.")
    assert v.category == "sale"
    assert v.categories == ["sale", "recruitment"]
    assert v.to_dict()["categories"] == ["sale", "recruitment"]


def test_a_plain_verdict_lists_one_category(detector):
    assert detector.score(AD).categories == ["sale"]
    assert detector.score("Всем хорошего вечера!").categories == ["none"]
