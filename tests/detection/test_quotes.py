"""Reported speech and the report frame (detection/quotes.py): where someone else's words are,
and whether a post is a report about others."""

from __future__ import annotations

import pytest

from detection.quotes import report_frame, reported_spans


def quoted(text: str) -> list[str]:
    return [text[s:e] for s, e in reported_spans(text)]


@pytest.mark.parametrize("text, inner", [
    ("Волонтёры нашли надпись «меф 1г бот @x_bot» на стене", "меф 1г бот @x_bot"),
    ("Текст гласил “закладки по городу” и всё", "закладки по городу"),
    ('Реклама "клад за 10 минут" висела неделю', "клад за 10 минут"),
    ("Parents got 'easy job, 5k per point' in a chat", "easy job, 5k per point"),
])
def test_text_in_quotation_marks_is_reported(text, inner):
    assert inner in quoted(text)


def test_an_apostrophe_is_not_a_quote():
    assert quoted("Kazakhstan's police say the shop's bot is down") == []


def test_a_cue_with_a_colon_reports_its_line_only():
    text = "В объявлении пишут: меф и гаш, бот @shop_bot\nМы передали ссылку в полицию."
    assert quoted(text) == [" меф и гаш, бот @shop_bot"]


@pytest.mark.parametrize("text, inner", [
    ("Мы нашли канал, который продаёт открыто: меф 1г 15к, бот @x_bot.", " меф 1г 15к, бот @x_bot."),
    ("Текст объявления: клады по районам, оператор @op. Мы пожаловались.",
     " клады по районам, оператор @op."),
    ("Хабарландыруда: жұмыс бар, күнделікті төлем. Сақ болыңыз!",
     " жұмыс бар, күнделікті төлем."),
    ("В объявлении сказано, что нужны курьеры на закладки. Полиция проверяет.",
     ", что нужны курьеры на закладки."),
])
def test_reporting_cues_report_what_they_introduce(text, inner):
    assert quoted(text) == [inner]
    assert report_frame(text)


def test_a_cue_ending_its_line_reports_the_next_line():
    text = "Транскрипция скриншота:\n[КЛАДЫ 24/7 | бот в био]\nКартинку уже удалили."
    assert quoted(text) == ["\n[КЛАДЫ 24/7 | бот в био]"]


def test_a_clause_cue_reports_to_the_end_of_the_sentence():
    text = "Подросткам предлагают разносить закладки за 5к. Это уголовное дело."
    assert quoted(text) == [" разносить закладки за 5к."]


def test_kazakh_closing_cue_reports_the_clause_before_it():
    text = "Стенде клад бар, ботқа жаз деп жазылған. Біз оны боядық."
    assert "Стенде клад бар, ботқа жаз" in quoted(text)[0]


def test_a_forward_reports_everything_after_its_line():
    text = "Forwarded from Snow Shop\nМеф в наличии, клады по районам"
    assert quoted(text) == ["\nМеф в наличии, клады по районам"]


def test_spans_are_sorted_and_disjoint():
    spans = reported_spans("«a «b» c» и «d» и «e»")
    assert spans == sorted(spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize("text", [
    "Полиция задержала курьера с 30 закладками",
    "Суд вынес приговор оператору магазина",
    "Волонтёры закрасили 40 надписей «клад 24/7»",
    "Алматыда 12 есірткі арнасы бұғатталды, ІІМ хабарлайды",
    "Ата-аналар, сақ болыңыз: балаларға «жұмыс бар» деп жазады",
    "Родители, будьте бдительны: так выглядит объявление вербовщика",
    "Police say shops recruit teenagers as couriers",
])
def test_reports_about_others_are_a_frame(text):
    assert report_frame(text)


@pytest.mark.parametrize("text", [
    "Новый бот: @shop_v2_bot. Старый заблокирован, балансы перенесли",
    "Осторожно, фейки! Наш единственный бот @real_shop_bot",
    "Подработка 14+, родителям говорить не обязательно 😉 @job_bot",
    "Ескі бот бұғатталды. Жаңа бот: @new_kz_bot",
    "Меф 1г 15к, клады по всем районам",
])
def test_a_shop_or_recruiter_talking_is_not_a_frame(text):
    assert not report_frame(text)


def test_frame_words_inside_a_quote_do_not_make_a_frame():
    # a shop quoting a customer who mentions the police is still the shop talking
    assert not report_frame("Отзыв: «полиции рядом не было, всё нашёл» — спасибо, клады 24/7")


def test_non_text_is_refused():
    with pytest.raises(TypeError):
        reported_spans(None)
    with pytest.raises(TypeError):
        report_frame(b"bytes")
