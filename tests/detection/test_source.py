"""Source level (Detector.score_source): a shop whose posts are chatter is a shop, a channel that
reports on shops is not, a channel that sells and recruits is a shop that recruits."""

from __future__ import annotations

import pytest

from detection.scorer import Detector
from detection.verdict import Verdict

CHATTER = ["Доброе утро, город ☀️", "Мем дня 😂", "С пятницей, друзья!", "Как вам погода?",
           "Спасибо, что вы с нами уже год ❤️", "Хороших выходных 🖤", "Ставьте 🔥 если на связи",
           "Розыгрыш в пятницу, условия в закрепе 🎁"]


def posts(detector, texts):
    return [detector.score(t) for t in texts]


def test_a_shop_profile_over_chatter_is_a_shop(detector):
    v = detector.score_source(
        "❄️ Снежок | Алматы 24/7",
        "Все районы + Каскелен. Бот в закрепе: @snezhok_alm_bot. Оператор не пишет первым. "
        "Оплата крипта или обменник.",
        None, posts(detector, CHATTER + ["Отзыв: «Медеу, забрал за 5 минут, всё на месте»"]))
    assert v.category == "sale"
    assert all(p.category == "none" for p in posts(detector, CHATTER))
    assert any(m.field == "description" for h in v.hits for m in h.matches)


def test_one_or_two_shop_posts_among_chatter_with_a_shop_title(detector):
    shop_posts = ["Пополнили Бостандык и Алмалы ❄️ клады 15 минут, бот в био",
                  "Новый бот: @snow_v3_bot, старый забанили. Балансы перенесли"]
    v = detector.score_source("Snow Shop KZ", "Работаем с 2023. Бот в био.", None,
                              posts(detector, CHATTER + shop_posts))
    assert v.category == "sale"
    assert any(h.rule == "source.posts_sale" for h in v.hits)


def test_a_volunteer_channel_quoting_ads_is_not_a_shop(detector):
    reports = [
        "Рейд в субботу: закрасили 30 надписей «❄️ клад 24/7 бот @x_shop_bot» 🎨",
        "Родители, внимание! Детям пишут: «подработка 14+, 5к за точку, пиши @job_x_bot». "
        "Это вербовка, сообщайте в полицию.",
        "Отправили жалобы на 12 каналов, 7 заблокировано ✅ Примеры: «меф 1г 15к», «клад 15 мин»",
        "Спасибо всем, кто вышел на субботник 💚",
    ]
    v = detector.score_source(
        "Чистый город | волонтёры", "Антинаркотическое движение: закрашиваем рекламу шопов на "
        "стенах, отправляем жалобы на каналы.", None, posts(detector, reports))
    assert v.category == "none"


def test_a_news_channel_with_one_shop_post_among_many_is_not_a_shop(detector):
    shop = detector.score("Меф 1г 15000 тг, закладки, бот @x_shop_bot")
    news = [detector.score(f"Новости дня {i}: погода хорошая") for i in range(200)]
    assert detector.score_source("Новости", "Главное за день", None,
                                 [shop] + news).category == "none"


def test_a_shop_that_recruits_is_a_shop_with_both_categories(detector):
    recruiting = ["Нужны курьеры-закладчики в Наурызбай, 5к за точку, выплаты каждый день, "
                  "пиши оператору",
                  "Ищем кладменов, залог 20к, мануал и куратор. Пиши в бот → «Работа»"]
    v = detector.score_source(
        "Kristal Market 💎", "Витрина 24/7, все районы Астаны. Вход через бота в закрепе.", None,
        posts(detector, CHATTER[:4] + recruiting))
    assert v.category == "sale"
    assert v.categories == ["sale", "recruitment"]
    assert any(h.rule == "source.shop_recruits" for h in v.hits)


def test_a_recruiters_channel_is_recruitment(detector):
    v = detector.score_source(
        "Работа Алматы | быстрые деньги 💸",
        "Курьеры, водители, склад. Выплаты каждый день, без опыта, от 16 лет. Пиши @hr_fast_kz",
        None, posts(detector, CHATTER[:3]))
    assert v.category == "recruitment"


def test_verdicts_with_only_a_category_and_score_are_enough(detector):
    # the pipeline rebuilds post verdicts from the store: no hits, no per-category scores
    stored = [Verdict("sale", 0.95), Verdict("sale", 0.9)] + [Verdict("none", 0.0)] * 8
    v = detector.score_source("Snow Shop KZ", "Бот в био", None, stored)
    assert v.category == "sale"
    assert detector.score_source("Городской чат", None, None,
                                 [Verdict("none", 0.0)] * 10).category == "none"


def test_posts_of_a_reporting_channel_count_for_little():
    from detection.rules import REPORT_HIT
    from detection.source import REPORTER_POSTS, post_evidence, reporting
    from detection.verdict import RuleHit

    framed = Verdict("sale", 0.9, [RuleHit(REPORT_HIT, "sale", ("report",), 0.0, ())])
    plain = Verdict("sale", 0.9, [RuleHit("sale.drop", "sale", ("drop",), 1.8, ())])
    assert reporting(False, [framed, framed, plain])
    assert not reporting(False, [plain, plain, plain])
    assert reporting(True, [])
    full, _ = post_evidence([plain] * 3, "sale", 3, 0.2, reporter=False)
    cut, hit = post_evidence([plain] * 3, "sale", 3, 0.2, reporter=True)
    assert cut == full * REPORTER_POSTS and hit.rule == "source.posts_sale"


COURIER_POSTS = [Verdict("recruitment", 0.95), Verdict("recruitment", 0.9)] + [
    Verdict("none", 0.0)] * 6


def test_a_legitimate_employers_vacancies_do_not_make_a_recruiter(detector):
    v = detector.score_source(
        "Жолда Доставка 🛵 | курьерская служба",
        "Доставка еды по Астане. Официальная работа курьером: договор, страховка, "
        "еженедельные выплаты.", None, COURIER_POSTS)
    assert v.category == "none"
    legit = [h for h in v.hits if h.rule == "source.legitimate_business"]
    assert legit and {m.concept for m in legit[0].matches} == {"legit_job"}
    # The same posts under a profile that describes no business: a recruiter.
    v = detector.score_source("Работа 💸 быстрые деньги", "Выплаты каждый день, пиши в лс", None,
                              COURIER_POSTS)
    assert v.category == "recruitment"


def test_a_cover_story_with_stash_words_is_no_legitimate_business(detector):
    from detection.source import legitimate

    def profile(text):
        return detector.evidence(text, "description")[0]

    assert legitimate(profile("Соли для ванн и гималайские лампы, доставка Kazpost"))
    assert legitimate(profile("Соли для ванн и гималайские лампы, только клад, без контакта")
                      ) is None
    assert legitimate(profile("Официальный канал магазина")) is None  # one word may be chance


def test_a_recruiter_whose_posts_mention_the_shop_is_a_recruiter(detector):
    mixed = [Verdict("recruitment", 0.99)] * 3 + [Verdict("sale", 0.9)] * 2 + [
        Verdict("none", 0.0)] * 3
    v = detector.score_source(
        "Работа 💸 Быстрые выплаты | KZ",
        "Вакансии: курьеры, склад, водители. Выплаты ежедневно в USDT. Анкета: @fast_job_kz_bot",
        None, mixed)
    assert v.category == "recruitment" and v.scores["sale"] >= 0.5
    assert not any(h.rule == "source.shop_recruits" for h in v.hits)


@pytest.fixture(scope="module")
def with_model() -> Detector:
    return Detector.from_config()  # the default: rules and the bundled model


@pytest.mark.parametrize("which", ["rules", "model"])
def test_a_site_with_no_profile_and_a_few_ads_among_many_is_not_a_shop(which, request):
    """A classifieds site has no title or description of its own: nothing in its profile may
    count for a shop (the model, given no evidence, must not be asked), so two shop ads among
    forty ordinary ones stay two post candidates rather than making the site a shop."""
    detector = request.getfixturevalue("detector" if which == "rules" else "with_model")
    empty = detector.score_source(None, None, None, [])
    assert empty.category == "none" and max(empty.scores.values()) < 0.05
    ads = ["М е ф и альфа-PVP в наличии, клады по Алматы и Астане. Бот: @kristall_kz_bot"] * 2
    ordinary = ["Велосипед в хорошем состоянии, Алматы, самовывоз.",
                "Фен для волос, 2000 Вт, на гарантии. Пишите в WhatsApp."] * 20
    v = detector.score_source(None, None, None, posts(detector, ads + ordinary))
    assert v.category == "none" and v.scores["sale"] < 0.5
