"""Training data from analysts' decisions: confirmed candidates' evidence posts become positives
of the confirmed category, dismissals with a reason negatives, a confirmed spot-check sample a
positive (the miss), each text once with the latest decision winning."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from crawler.store.models import Candidate
from pipelines.chain import ProcessingChain
from pipelines.training import store_records
from tests.pipelines.test_chain import NEWS, RECRUIT_AD, channel, post, shop_channel_items
from tests.pipelines.test_spot_check import chain_with_rate


def decide(store, category, status, *, decision=None, reason=None, minutes=0):
    with store.session() as session:
        rows = session.scalars(select(Candidate).where(
            Candidate.category == category, Candidate.sampled.is_(False))).all()
        for c in rows:
            c.status, c.decision, c.reason = status, decision, reason
            c.decided_at = datetime.now(timezone.utc) + timedelta(minutes=minutes)
        return [c.id for c in rows]


def records(store):
    with store.reader() as session:
        return list(store_records(session))


def test_confirmed_and_dismissed_candidates_become_labelled_posts(store, config):
    chain = ProcessingChain(store, config, "component:test")
    chain.process(shop_channel_items())
    decide(store, "sale", "confirmed", decision="sale")
    chain.process([channel("city_chat", 2, "Алматы чат", "Общение жителей", 50000),
                   post("city_chat", 1, RECRUIT_AD.format(hr="hr_kz"))] +
                  [post("city_chat", i + 2, text) for i, text in enumerate(NEWS)])
    decide(store, "recruitment", "dismissed", reason="legitimate-job")
    got = records(store)
    sale = [r for r in got if r["label"] == "sale"]
    none = [r for r in got if r["label"] == "none"]
    assert len(sale) == 4 and all(r["kind"] == "sale/confirmed" for r in sale)
    assert len(none) == 1 and none[0]["kind"] == "dismissed/legitimate-job"
    assert "Курьер-закладчик" in none[0]["text"]
    assert all(r["writer"] == "store" for r in got)


def test_a_dismissal_without_a_reason_teaches_nothing(store, config):
    chain = ProcessingChain(store, config, "component:test")
    chain.process(shop_channel_items())
    decide(store, "sale", "dismissed")
    assert records(store) == []


def test_the_latest_decision_on_the_same_text_wins(store, config):
    chain = ProcessingChain(store, config, "component:test")
    chain.process(shop_channel_items())
    chain.process(shop_channel_items(name="mirror_shop", numeric_id=7, start=1))
    with store.session() as session:
        first, second = session.scalars(select(Candidate).where(
            Candidate.subject_type == "source").order_by(Candidate.id)).all()
        now = datetime.now(timezone.utc)
        first.status, first.decision, first.decided_at = "confirmed", "sale", now
        second.status, second.reason = "dismissed", "duplicate"
        second.decided_at = now + timedelta(minutes=5)
    got = records(store)
    assert len(got) == 4  # the same four texts, once each
    assert {r["label"] for r in got} == {"none"}


def test_a_confirmed_spot_check_sample_is_a_positive(store, tmp_path, db_url):
    chain = chain_with_rate(store, tmp_path, db_url, 1)
    # A shop's boast with no word any detector reads (the rules and the model both pass it).
    quiet_ad = "Кто пишет «дорого» — у нас граммовка честная, не бодяжим. Всё как договаривались"
    chain.process([channel("quiet", 3, "Чат", "Общение"), post("quiet", 1, quiet_ad)])
    with store.session() as session:
        sample = session.scalars(select(Candidate).where(Candidate.sampled.is_(True))).one()
        sample.status, sample.decision = "confirmed", "sale"
        sample.decided_at = datetime.now(timezone.utc)
    (record,) = records(store)
    assert (record["label"], record["kind"], record["text"]) == (
        "sale", "sale/spot-check", quiet_ad)
