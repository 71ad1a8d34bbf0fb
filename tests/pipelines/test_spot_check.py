"""The spot-check sample: one in `spot_check_rate` posts the detector did not flag becomes a
`sampled` candidate that waits in the spot-check queue (not the main queue), so analysts can
measure what detection misses; a sampled post later edited into an ad reaches the main queue."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from crawler.config import load_config
from crawler.store.models import Candidate, Event, User
from pipelines.chain import ProcessingChain
from pipelines.queue import sampled
from review.queries import QueueFilters, queue_counts, queue_page

from tests.pipelines.test_chain import NEWS, SHOP_AD, channel, post


def chain_with_rate(store, tmp_path, db_url, rate):
    path = tmp_path / f"kyran-{rate}.toml"
    path.write_text(f'[store]\nurl = "{db_url}"\ncaptures_dir = "captures"\n'
                    f"[queue]\nspot_check_rate = {rate}\n")
    return ProcessingChain(store, load_config(path, environ={}), "component:test")


def lead(session):
    user = User(username="lead", password_hash="x", role="lead")
    session.add(user)
    session.flush()
    return user


def test_every_unflagged_post_is_sampled_at_rate_one(store, tmp_path, db_url):
    chain = chain_with_rate(store, tmp_path, db_url, 1)
    chain.process([channel("city", 10, "Город", "Новости")]
                  + [post("city", i, text) for i, text in enumerate(NEWS, 1)])
    with store.session() as session:
        rows = session.scalars(select(Candidate)).all()
        assert len(rows) == len(NEWS)
        assert all(c.sampled and c.status == "open" and c.subject_type == "post" for c in rows)
        events = session.scalars(select(Event).where(Event.action == "candidate.sampled")).all()
        assert len(events) == len(NEWS)
        user = lead(session)
        main = queue_page(session, QueueFilters(), user=user)
        spot = queue_page(session, QueueFilters(status=None, spot_check=True), user=user)
        assert main.total == 0  # the sample never crowds the main queue
        assert spot.total == len(NEWS)
        counts = queue_counts(session, user)
        assert (counts.open, counts.spot_check) == (0, len(NEWS))


def test_a_sampled_post_that_becomes_an_ad_reaches_the_main_queue(store, tmp_path, db_url):
    chain = chain_with_rate(store, tmp_path, db_url, 1)
    chain.process([channel("chat", 11, "Чат", "Общение", 50000), post("chat", 1, NEWS[0])])
    edited = post("chat", 1, SHOP_AD.format(price=15000, bot="snow_kz_bot"))
    chain.process([edited])
    with store.session() as session:
        flagged = session.scalars(select(Candidate).where(Candidate.category == "sale",
                                                          Candidate.sampled.is_(False))).all()
        assert flagged, "the edited post, now an ad, is a candidate of the main queue"
        main = queue_page(session, QueueFilters(), user=lead(session))
        assert {row.id for row in main.rows} >= {c.id for c in flagged}


def test_rate_zero_samples_nothing(store, tmp_path, db_url):
    chain = chain_with_rate(store, tmp_path, db_url, 0)
    chain.process([channel("city", 12, "Город", "Новости")]
                  + [post("city", i, text) for i, text in enumerate(NEWS, 1)])
    with store.session() as session:
        assert session.scalars(select(Candidate)).all() == []


@pytest.mark.parametrize("rate", [2, 50, 500])
def test_the_sample_is_stable_and_about_one_in_rate(rate):
    ids = range(1, 200_001)
    share = sum(sampled(i, rate) for i in ids) / len(ids)
    assert abs(share - 1 / rate) < 0.2 / rate
    # Stable across processes (unlike hash(), salted per process): a re-run samples the same.
    here = [i for i in range(1, 5000) if sampled(i, rate)]
    code = (f"from pipelines.queue import sampled; "
            f"print([i for i in range(1, 5000) if sampled(i, {rate})])")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other.stdout.strip() == str(here)
