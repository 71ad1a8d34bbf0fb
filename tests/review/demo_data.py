"""Demo-like review data for the screenshots: Telegram channels with Russian and Kazakh posts in
the manner of `kyran demo` (shops, courier recruitment, city news that mentions drugs), the
matched words marked, the bundled model's reasons beside the rules, bots and wallets linked,
candidates opened over the last two weeks, and some of them decided by two analysts on past days
so the dashboard has something to show.
Fictional: every handle and wallet is made up. Emoji are dropped (`plain`): the test machine's
Chromium has no emoji font and would draw empty boxes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.demo import NEWS_POSTS, RECRUIT_POSTS, SHOP_POSTS
from sqlalchemy import select

from crawler.store.models import Candidate, Post, User, Verdict
from review.decisions import decide
from tests.review.browser import add_flagged_source

WORDS = ("Мефедрон", "мефедрон", "Альфа-PVP", "соль", "Клады", "клад", "Шишки", "гашиш",
         "закладчик", "Курьер керек", "трафаретчиков", "закладок", "Доставка", "координаты")
# handle, title, texts, category, priority, entities, age in days
CHANNELS = (
    ("kristall_demo_shop", "💎 KRISTALL KZ 💎", SHOP_POSTS[:2], "sale", 97,
     [("telegram_bot", "@kristall_demo_bot"), ("tron", "TKyranDemoWa11etFict1ona1Add1e55zz")], 1),
    ("rabota_demo_kz", "Работа Алматы | Быстрые деньги", RECRUIT_POSTS, "recruitment", 95,
     [("telegram_handle", "@rabota_demo_hr")], 2),
    ("shymkent_demo_24", "Шымкент 24/7", [SHOP_POSTS[3], SHOP_POSTS[2]], "sale", 88,
     [("telegram_bot", "@shym_demo_bot")], 3),
    ("kurer_demo_astana", "Курьер керек | Астана", [RECRUIT_POSTS[1]], "recruitment", 84,
     [("telegram_handle", "@rabota_demo_hr")], 4),
    ("karaganda_demo_klad", "Караганда клад", [SHOP_POSTS[1]], "sale", 71,
     [("tron", "TKyranDemoWa11etFict1ona1Add1e55zz")], 5),
    ("almaty_demo_news", "Алматы Новости", NEWS_POSTS[:1], "sale", 40, [], 6),
    ("zhastar_demo_news", "Жастар үшін | профилактика", NEWS_POSTS[1:2], "recruitment", 35,
     [], 7),
    ("sud_demo_kz", "Суд и право KZ", NEWS_POSTS[2:], "sale", 30, [], 8),
    ("aktobe_demo_shop", "Актобе стафф", [SHOP_POSTS[0]], "sale", 90,
     [("telegram_bot", "@kristall_demo_bot")], 9),
    ("pavlodar_demo_job", "Подработка Павлодар", [RECRUIT_POSTS[2]], "recruitment", 80, [], 10),
    ("astana_demo_shop", "Астана стафф", [SHOP_POSTS[3]], "sale", 86, [], 11),
    ("oskemen_demo_news", "Өскемен жаңалықтары", [NEWS_POSTS[0]], "sale", 25, [], 12),
)
# handle → (action, policy or reason, analyst, days after opening)
DECISIONS = {
    "aktobe_demo_shop": ("confirm", "drug-sale", "anna", 1),
    "pavlodar_demo_job": ("confirm", "courier-recruitment", "boris", 2),
    "astana_demo_shop": ("confirm", "drug-sale", "boris", 1),
    "oskemen_demo_news": ("dismiss", "news-or-prevention", "anna", 1),
    "sud_demo_kz": ("dismiss", "news-or-prevention", "boris", 3),
    "karaganda_demo_klad": ("escalate", None, "anna", 1),
}


def plain(text: str) -> str:
    """`text` without emoji (characters past the Basic Multilingual Plane, arrows and the
    emoji variation selector), spaces tidied."""
    kept = "".join(c for c in text if ord(c) <= 0xFFFF and c not in "\u2b07\ufe0f")
    return " ".join(part for part in kept.split(" ") if part).replace(" \n", "\n").strip()


def spans_of(text: str) -> list[tuple[int, int]]:
    """Where the demo's words stand in `text`, first occurrence each, not overlapping."""
    found: list[tuple[int, int]] = []
    for word in WORDS:
        at = text.find(word)
        if at >= 0 and not any(s < at + len(word) and at < e for s, e in found):
            found.append((at, at + len(word)))
    return sorted(found) or [(0, min(8, len(text)))]


def _explain(session) -> None:
    """The bundled model's reasons on each flagged post, as the chain stores them."""
    from detection.config import DetectionConfig
    from detection.scorer import Detector

    detector = Detector.from_config(DetectionConfig())
    for verdict, text in session.execute(select(Verdict, Post.text).join(
            Post, (Verdict.subject_type == "post") & (Verdict.subject_id == Post.id))):
        verdict.contributions = detector.score(text).to_dict()["contributions"]


def seed_demo(store, analysts: dict[str, int]) -> dict[str, int]:
    """The demo's channels and decisions; {handle: candidate id}. `analysts` maps the names in
    DECISIONS to user ids."""
    now = datetime.now(timezone.utc)
    made: dict[str, int] = {}
    with store.session() as session:
        for handle, title, texts, category, priority, entities, days in CHANNELS:
            title, texts = plain(title), [plain(text) for text in texts]
            made[handle] = add_flagged_source(
                session, handle=handle, title=title, texts=list(texts),
                spans=[spans_of(text) for text in texts], priority=priority,
                category=category, entities=entities)
            candidate = session.get(Candidate, made[handle])
            candidate.created_at = now - timedelta(days=days, hours=priority % 7)
        _explain(session)
    for handle, (action, named, who, after) in DECISIONS.items():
        with store.session() as session:
            candidate = session.get(Candidate, made[handle])
            moment = min(candidate.created_at.replace(tzinfo=timezone.utc)
                         + timedelta(days=after - 1, hours=3), now)
            decide(session, session.get(User, analysts[who]), candidate.id, action,
                   policy=named if action == "confirm" else None,
                   reason=named if action == "dismiss" else None, now=moment, via="web")
    return made
