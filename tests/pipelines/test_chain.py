"""The processing chain on SQLite and PostgreSQL: verdicts, entities, clusters, candidates on the
right subject, discovery, and failures that stay with the post that caused them."""

import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from crawler.items import ChannelItem, CrawlCheckpoint, PostItem
from crawler.store.models import Candidate, Entity, Event, Post, PostEntity, Source, Verdict
from pipelines.chain import ProcessingChain

NOW = datetime.now(timezone.utc)
SHOP_AD = ("🔥 Мефедрон VHQ в наличии 🔥\n1г — {price} тг\nКлады по Алматы: магнит, прикоп\n"
           "Заказ через бота @{bot}, оплата BTC")
RECRUIT_AD = ("Работа для школьников от 16 лет! Курьер-закладчик, оплата каждый день до 50 000 "
              "тг. Без опыта. Пиши @{hr}")
NEWS = ["Погода в Алматы: завтра до +5, без осадков.", "Открылся новый парк на Абая.",
        "Концерт на площади в субботу, вход свободный.", "Пробки на Аль-Фараби до вечера.",
        "Фестиваль еды прошёл в выходные, пришли тысячи людей."]


def post(source, pid, text, *, views=100, forwarded_from=None, platform="telegram", hours=0,
         forwarded_from_url=None):
    return PostItem(source_key=source, external_id=str(pid), url=f"https://t.me/{source}/{pid}",
                    platform=platform, text=text, views=views, forwarded_from=forwarded_from,
                    forwarded_from_url=forwarded_from_url, posted_at=NOW - timedelta(hours=hours))


def channel(name, numeric_id, title="", about="", subscribers=1000):
    return ChannelItem(username=name, numeric_id=numeric_id, title=title, description=about,
                       subscribers=subscribers)


@pytest.fixture
def chain(store, config):
    return ProcessingChain(store, config, "component:test")


def candidates(store):
    with store.session() as session:
        return session.scalars(select(Candidate).order_by(Candidate.id)).all()


def shop_channel_items(name="kristall_shop", numeric_id=1, bot="kristall_kz_bot", start=1):
    items = [channel(name, numeric_id, "💎 KRISTALL 💎", f"Магазин 24/7. Бот: @{bot}", 4800)]
    items += [post(name, start + i, SHOP_AD.format(price=15000 + 1000 * i, bot=bot), hours=i)
              for i in range(4)]
    return items


def test_shop_channel_becomes_a_source_candidate(chain, store):
    chain.process(shop_channel_items())
    with store.session() as session:
        verdicts = session.scalars(select(Verdict).where(Verdict.subject_type == "post")).all()
        assert len(verdicts) == 4 and {v.category for v in verdicts} == {"sale"}
        assert all(v.hits and v.indicators for v in verdicts)
        source = session.scalars(select(Source).where(Source.handle == "kristall_shop")).one()
        source_verdict = session.scalars(select(Verdict).where(
            Verdict.subject_type == "source", Verdict.subject_id == source.id)).one()
        assert source_verdict.category == "sale"
        bot = session.scalars(select(Entity).where(Entity.value == "@kristall_kz_bot")).one()
        assert session.scalar(select(func.count()).select_from(PostEntity)
                              .where(PostEntity.entity_id == bot.id)) == 4
        clusters = set(session.scalars(select(Post.cluster_id)))
        assert len(clusters) == 1  # the same ad with four prices is one cluster
    (candidate,) = candidates(store)
    assert (candidate.subject_type, candidate.category, candidate.status) == (
        "source", "sale", "open")
    assert 0 < candidate.priority <= 100 and candidate.reasons


def test_single_ad_in_an_ordinary_channel_is_a_post_candidate(chain, store):
    items = [channel("city_chat", 2, "Алматы чат", "Общение жителей", 50000)]
    items += [post("city_chat", i + 1, text) for i, text in enumerate(NEWS * 4)]
    items.append(post("city_chat", 100, RECRUIT_AD.format(hr="rabota_hr_kz")))
    chain.process(items)
    (candidate,) = candidates(store)
    assert (candidate.subject_type, candidate.category) == ("post", "recruitment")
    with store.session() as session:
        subject = session.get(Post, candidate.subject_id)
        assert subject.external_id == "100"
        opened = session.scalars(select(Event).where(Event.action == "candidate.opened")).one()
        assert opened.payload["priority_parts"]["category"] == 20.0  # aimed at minors


def test_the_same_ad_in_many_chats_is_one_candidate(chain, store):
    items = []
    for n in range(5):
        name = f"city_chat_{n}"
        items.append(channel(name, 10 + n, f"Чат {n}", "Общение", 20000))
        items += [post(name, i + 1, text) for i, text in enumerate(NEWS * 3)]
        items.append(post(name, 99, RECRUIT_AD.format(hr=f"hr_{n}_kz")))
    chain.process(items)
    recruitment = [c for c in candidates(store) if c.category == "recruitment"]
    assert len(recruitment) == 1 and recruitment[0].subject_type == "post"
    from crawler.store.views import source_spread

    with store.session() as session:
        assert source_spread(session, recruitment[0]) == 5


def test_a_bot_behind_several_channels_is_an_entity_candidate(chain, store):
    chain.process(shop_channel_items("shop_one", 21, "same_shop_bot")
                  + shop_channel_items("shop_two", 22, "same_shop_bot", start=50))
    with store.session() as session:
        bot = session.scalars(select(Entity).where(Entity.value == "@same_shop_bot")).one()
    entity_candidates = [c for c in candidates(store) if c.subject_type == "entity"]
    assert [c.subject_id for c in entity_candidates] == [bot.id]


def test_dismissed_stays_dismissed_unless_much_stronger_evidence(chain, store):
    chain.process(shop_channel_items())
    (candidate,) = candidates(store)
    with store.session() as session:
        session.get(Candidate, candidate.id).status = "dismissed"
    chain.process([post("kristall_shop", 20, SHOP_AD.format(price=1, bot="kristall_kz_bot"))])
    (same,) = candidates(store)
    assert same.status == "dismissed"  # as strong as when dismissed: no reason to reopen
    with store.session() as session:
        session.get(Candidate, candidate.id).score = 0.6  # it was dismissed when weaker
    chain.process([post("kristall_shop", 21, SHOP_AD.format(price=2, bot="kristall_kz_bot"))])
    (reopened,) = candidates(store)
    assert reopened.status == "open"
    with store.session() as session:
        event = session.scalars(select(Event).where(Event.action == "candidate.reopened")).one()
        assert "dismissed at 0.60" in event.payload["why"]
        assert event.payload["posts"]


def test_open_candidate_gets_evidence_events(chain, store):
    chain.process(shop_channel_items())
    chain.process([post("kristall_shop", 10, SHOP_AD.format(price=99000, bot="kristall_kz_bot"))])
    with store.session() as session:
        actions = session.scalars(select(Event.action).where(
            Event.subject_type == "candidate").order_by(Event.id)).all()
    assert actions == ["candidate.opened", "candidate.evidence"]


def test_discovery_adds_named_and_forwarded_channels_with_limits(store, config, chain):
    text = SHOP_AD.format(price=1, bot="disc_shop_bot") + "\nНаш канал: t.me/disc_reserve_shop"
    chain.process([channel("seed_shop", 31), post(
        "seed_shop", 1, text, forwarded_from="disc_origin_shop",
        forwarded_from_url="https://t.me/disc_origin_shop/77"), post(
        "seed_shop", 2, text + " ", forwarded_from="Dmitry")])  # a name alone is no channel
    with store.session() as session:
        found = {s.handle: s for s in session.scalars(select(Source).where(
            Source.discovered_via != "seed"))}
    assert found["disc_reserve_shop"].discovered_via == "link"
    assert found["disc_origin_shop"].discovered_via == "forward"
    assert found["disc_shop_bot"].kind == "bot" and not found["disc_shop_bot"].watched
    assert all(s.discovery_depth == 1 and s.watch_priority > 50 for s in found.values())
    assert "dmitry" not in found
    # depth: posts of a depth-2 source name nothing new
    with store.session() as session:
        session.scalars(select(Source).where(Source.handle == "seed_shop")).one() \
            .discovery_depth = 2
    chain.process([post("seed_shop", 2, SHOP_AD.format(price=2, bot="too_deep_bot"))])
    with store.session() as session:
        assert session.scalars(select(Source).where(Source.handle == "too_deep_bot")).first() \
            is None
    # per-run cap
    capped = ProcessingChain(store, config.model_copy(update={"discovery": config.discovery
                             .model_copy(update={"max_new_per_run": 1})}), "component:test")
    capped.process([channel("seed_two", 32), post("seed_two", 1, SHOP_AD.format(
        price=3, bot="cap_one_bot") + " и @cap_two_shop, @cap_three_shop")])
    with store.session() as session:
        new = session.scalars(select(Source.handle).where(Source.handle.like("cap_%"))).all()
    assert len(new) == 1


def test_a_post_that_breaks_a_step_is_skipped_and_the_rest_go_on(chain, store, caplog):
    detector = chain.detectors.get()
    real_score_many = detector.score_many

    def score_many(texts):  # the score step scores each batch of new posts at once
        if any("BOOM" in text for text in texts):
            raise RuntimeError("detector exploded")
        return real_score_many(texts)

    detector.score_many = score_many
    items = shop_channel_items() + [post("kristall_shop", 77, "BOOM " + "x" * 10)]
    with caplog.at_level(logging.WARNING):
        chain.process(items)
    assert "step score failed for telegram:kristall_shop/77" in caplog.text
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 5  # the post is kept
        assert session.scalar(select(func.count()).select_from(Verdict).where(
            Verdict.subject_type == "post")) == 4
    assert chain.stats["errors/score"] == 1
    assert len(candidates(store)) == 1


def test_empty_and_huge_posts(chain, store):
    huge = ("Продаю велосипед. " * 60000)[:1_000_000]
    chain.process([channel("odd_chan", 41), post("odd_chan", 1, ""), post("odd_chan", 2, huge),
                   CrawlCheckpoint("odd_chan", 2)])
    with store.session() as session:
        rows = session.scalars(select(Post).order_by(Post.id)).all()
        assert [len(p.text) for p in rows] == [0, 1_000_000]
        assert session.scalars(select(Source)).one().crawl_cursor == 2
        assert session.scalar(select(func.count()).select_from(Verdict).where(
            Verdict.subject_type == "post")) == 2
    assert candidates(store) == []


def fail_to_store_post_3(chain) -> None:
    real_posts = chain.storing.posts

    def posts(session, items):
        if any(item.external_id == "3" for item in items):
            raise RuntimeError("disk trouble")
        return real_posts(session, items)

    chain.storing.posts = posts


def test_a_post_that_cannot_be_stored_holds_the_crawl_cursor_back(chain, store, caplog):
    fail_to_store_post_3(chain)
    items = shop_channel_items() + [CrawlCheckpoint("kristall_shop", 4)]
    with caplog.at_level(logging.WARNING):
        chain.process(items)
    assert "crawl cursor of kristall_shop not advanced: 1 posts" in caplog.text
    with store.session() as session:
        assert sorted(session.scalars(select(Post.external_id))) == ["1", "2", "4"]
        source = session.scalars(select(Source).where(Source.handle == "kristall_shop")).one()
        assert source.crawl_cursor is None  # the next run fetches post 3 again


def test_the_cursor_waits_for_posts_lost_in_an_earlier_batch(chain, store):
    fail_to_store_post_3(chain)
    chain.process(shop_channel_items())  # post 3 fails here …
    chain.process([post("kristall_shop", 5, "ещё пост"), CrawlCheckpoint("kristall_shop", 5)])
    with store.session() as session:  # … so the checkpoint of the next batch is held back
        source = session.scalars(select(Source).where(Source.handle == "kristall_shop")).one()
        assert source.crawl_cursor is None
    chain.process([CrawlCheckpoint("kristall_shop", 5)])  # a later visit that stored all
    with store.session() as session:
        source = session.scalars(select(Source).where(Source.handle == "kristall_shop")).one()
        assert source.crawl_cursor == 5


def test_an_edited_post_leaves_its_old_cluster(chain, store):
    greeting = "Доброе утро, Алматы! Хорошего всем дня и отличного настроения, друзья."
    chain.process([channel("chat_a", 61), post("chat_a", 1, greeting),
                   channel("chat_b", 62), post("chat_b", 1, greeting)])
    ad = SHOP_AD.format(price=5, bot="edit_shop_bot")
    chain.process([post("chat_a", 1, ad), channel("chat_c", 63), post("chat_c", 1, ad)])
    with store.session() as session:
        rows = {(s.handle, p.external_id): p.cluster_id for p, s in session.execute(
            select(Post, Source).join(Source))}
    assert rows[("chat_a", "1")] != rows[("chat_b", "1")]  # no longer the greeting's cluster
    assert rows[("chat_a", "1")] == rows[("chat_c", "1")]  # the same ad elsewhere
