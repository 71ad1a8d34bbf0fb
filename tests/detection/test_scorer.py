"""Scoring posts and sources: categories, explanations with spans, context, configuration."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from detection.config import DetectionConfig
from detection.scorer import Detector


def test_sale_post_with_obfuscation_is_explained_in_original_spans(detector):
    text = "🔥 MEФEДPOH 1г — 15 000 тг, к.л.а.д.ы по Алматы. Бот @snow_kz_bot"
    v = detector.score(text)
    assert v.category == "sale" and v.score >= 0.5
    words = {m.text for h in v.hits for m in h.matches}
    assert {"MEФEДPOH", "к.л.а.д.ы", "15 000 тг", "@snow_kz_bot"} <= words
    for h in v.hits:
        for m in h.matches:
            assert text[m.span[0]:m.span[1]] == m.text
    assert ("telegram_bot", "@snow_kz_bot") in {(i.kind, i.value) for i in v.indicators}
    assert v.reasons[0].startswith("sale.")


def test_recruitment_post(detector):
    v = detector.score("Требуются кладмены в Астане, выплаты каждый день, залог 20к. Пиши @hr_team")
    assert v.category == "recruitment"
    assert "recruitment.job_drug_role" in v.reasons


@pytest.mark.parametrize("text", [
    "В Алматы задержан закладчик: изъято 50 г мефедрона, сообщает департамент полиции.",
    "Родители, будьте бдительны: надписи «соль, меф, бот» на стенах — реклама наркотиков.",
    "Фен Dyson, гарантия 1 год, доставка по городу, 250 000 тг. Пишите @dyson_kz",
    "Сосновые шишки для декора, 100 шт — 3 000 тг. Доставка.",
    "Яндекс Еда ищет курьеров, выплаты каждую неделю, официальное трудоустройство.",
    "Геокешинг: новый тайник у озера, координаты N43 12.345 E076 54.321.",
    "Продам аккаунт PUBG, сделка через гаранта @garant_kz",
])
def test_hard_negatives_stay_none_and_context_is_explained(detector, text):
    v = detector.score(text)
    assert v.category == "none", v.to_dict()


def test_context_lowers_the_score(detector):
    base = "Меф 1г, закладки в Алматы"
    news = base + ". Задержан курьер, изъято, уголовное дело возбуждено"
    plain, reported = detector.score(base), detector.score(news)
    assert reported.scores["sale"] < plain.scores["sale"]
    assert any(h.rule == "context.news" and h.contribution < 0 for h in reported.hits)


def test_proximity_matters():
    near = "Меф и закладки"
    far = "Меф." + " Обычный текст." * 60 + " закладки"
    d = Detector.from_config(DetectionConfig(proximity=50))
    assert any(h.rule == "sale.substance_drop" for h in d.score(near).hits)
    assert not any(h.rule == "sale.substance_drop" for h in d.score(far).hits)


def test_thresholds_are_configuration():
    text = "Меф есть, пиши @kok_shop"
    strict = Detector.from_config(DetectionConfig(sale_threshold=0.99, rules_only=True)).score(text)
    lax = Detector.from_config(DetectionConfig(sale_threshold=0.05, rules_only=True)).score(text)
    assert strict.category == "none" and lax.category == "sale"
    assert strict.scores == lax.scores


def test_config_forbids_unknown_keys_and_checks_paths(tmp_path):
    with pytest.raises(ValidationError):
        DetectionConfig(sale_treshold=0.4)
    with pytest.raises(ValidationError):
        DetectionConfig(lexicon_dir=tmp_path / "missing")
    for name, field in DetectionConfig.model_fields.items():
        assert field.description, name


def test_verdict_to_dict_is_json(detector):
    v = detector.score("Шоп: мефедрон, гашиш, кокаин. BTC 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")
    d = json.loads(json.dumps(v.to_dict(), ensure_ascii=False))
    assert d["category"] == "sale" and 0 <= d["score"] <= 1
    assert d["model_version"].startswith("rules-")
    assert {"rule", "concepts", "matches"} <= set(d["hits"][0])
    assert {"kind": "btc", "value": "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"}.items() <= d["indicators"][0].items()


def test_source_one_shop_post_among_many_news_is_not_a_shop(detector):
    shop = detector.score("Меф 1г 15000 тг, закладки, бот @x_shop_bot")
    news = [detector.score(f"Новости дня {i}: погода хорошая") for i in range(999)]
    v = detector.score_source("Новости Алматы", "Главные новости города", None, [shop] + news)
    assert shop.category == "sale"
    assert v.category == "none"


def test_source_whose_bio_is_a_bot_and_a_price_list_is_a_shop(detector):
    v = detector.score_source("KZ store", "Меф 1г — 15к, альфа 1г — 12к. Бот @kz_store_bot", None,
                              [detector.score("Всем привет!")])
    assert v.category == "sale"
    assert any(m.field == "description" for h in v.hits for m in h.matches)
    assert ("telegram_bot", "@kz_store_bot") in {(i.kind, i.value) for i in v.indicators}
    assert all(i.field == "description" for i in v.indicators)


def test_source_with_many_shop_posts_is_a_shop(detector):
    shop = [detector.score(f"Меф {i}г, закладки, бот @x_shop_bot") for i in range(1, 6)]
    other = [detector.score("Всем привет!") for _ in range(10)]
    v = detector.score_source("x", None, None, shop + other)
    assert v.category == "sale"
    assert any(h.rule == "source.posts_sale" for h in v.hits)


def test_score_rejects_non_text(detector):
    with pytest.raises(TypeError):
        detector.score(None)
