"""Prometheus metrics read from the store at scrape time, on SQLite and PostgreSQL: what crawls
in other processes stored is counted, and a store that does not answer says so."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from crawler.daemon.metrics import build_registry
from crawler.store.models_ops import AlertSent, SubjectLiveness
from tests.daemon.ops_helpers import (NOW, add_account, add_candidate, add_peer, add_post,
                                      add_run, add_source, add_verdict)


def samples(registry) -> dict[tuple[str, tuple], float]:
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def fill(store) -> None:
    with store.session() as session:
        shop = add_source(session, "shop_kz")
        market = add_source(session, "market", platform="web", kind="site")
        posts = [add_post(session, shop, str(i)) for i in range(3)]
        add_post(session, market, "listing-1")
        add_verdict(session, posts[0])
        add_verdict(session, posts[1], category="none", score=0.0)
        add_candidate(session, "source", shop.id)
        add_candidate(session, "post", posts[0].id, category="recruitment", status="dismissed")
        add_run(session, "crawl-site-market", "ok", NOW - timedelta(hours=2))
        add_run(session, "crawl-site-market", "failed", NOW - timedelta(hours=1))
        add_run(session, "crawl-site-market", "timeout", NOW)
        add_run(session, "preview", "ok", NOW)
        add_account(session, "main", state="paused", flood_waits=2, flood_wait_seconds=420)
        add_peer(session, shop, "main")
        candidate = add_candidate(session, "source", market.id)
        session.add(AlertSent(candidate_id=candidate.id, channel="webhook", status="sent"))
        session.add(SubjectLiveness(subject_type="source", subject_id=shop.id, target="t.me/s",
                                    state="gone"))


def test_metrics_count_what_the_store_holds(store):
    fill(store)
    got = samples(build_registry(store))
    assert got[("kyran_store_up", ())] == 1
    assert got[("kyran_posts_ingested_total", (("kind", "channel"), ("platform", "telegram")))] \
        == 3
    assert got[("kyran_posts_ingested_total", (("kind", "site"), ("platform", "web")))] == 1
    assert got[("kyran_posts_scored_total", (("kind", "channel"), ("platform", "telegram")))] \
        == 2
    assert got[("kyran_candidates_opened_total", (("category", "sale"),))] == 2
    assert got[("kyran_candidates_opened_total", (("category", "recruitment"),))] == 1
    assert got[("kyran_candidates", (("category", "recruitment"), ("status", "dismissed")))] \
        == 1
    assert got[("kyran_crawl_errors_total", (("job", "crawl-site-market"),))] == 2
    assert got[("kyran_crawl_errors_total", (("job", "preview"),))] == 0
    assert got[("kyran_job_runs_total", (("job", "crawl-site-market"), ("status", "failed")))] \
        == 1
    assert got[("kyran_job_last_success_timestamp_seconds", (("job", "crawl-site-market"),))] \
        == (NOW - timedelta(hours=2) + timedelta(seconds=10)).timestamp()
    assert got[("kyran_telegram_flood_wait_seconds_total", (("account", "main"),))] == 420
    assert got[("kyran_telegram_flood_waits_total", (("account", "main"),))] == 2
    assert got[("kyran_telegram_account_state", (("account", "main"), ("state", "paused")))] == 1
    assert got[("kyran_telegram_account_state", (("account", "main"), ("state", "active")))] == 0
    assert got[("kyran_telegram_channels", (("account", "main"),))] == 1
    assert got[("kyran_alerts_total", (("channel", "webhook"), ("status", "sent")))] == 1
    assert got[("kyran_reported_subjects", (("state", "gone"), ("type", "source")))] == 1


def test_each_scrape_reads_the_store_anew(store):
    registry = build_registry(store)
    assert ("kyran_posts_ingested_total", (("kind", "channel"), ("platform", "telegram"))) \
        not in samples(registry)
    with store.session() as session:  # as a crawl in another process would
        add_post(session, add_source(session, "late"), "1")
    assert samples(registry)[("kyran_posts_ingested_total",
                              (("kind", "channel"), ("platform", "telegram")))] == 1


def test_a_store_that_does_not_answer_gives_store_up_zero(tmp_path):
    from crawler.store.db import open_store

    store = open_store(f"sqlite:///{tmp_path}/k.sqlite")
    registry = build_registry(store)
    store.dispose()
    (tmp_path / "k.sqlite").unlink()
    (tmp_path / "k.sqlite").mkdir()  # a directory where the database was: every query fails
    got = samples(registry)
    assert got == {("kyran_store_up", ()): 0}
