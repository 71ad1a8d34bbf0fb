"""Takedown tracking: report → first seen gone per subject, Kaplan–Meier medians and shares
still up per recipient and platform (subjects still up are censored, never dropped), the
re-report list, and `kyran takedowns` — also end to end with the real liveness monitor."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import select

from crawler.cli import cli
from crawler.store.db import open_store
from crawler.store.ingest import add_event
from crawler.store.models import Candidate
from crawler.store.models_ops import SubjectLiveness
from evidence.takedowns import figures, reported_subjects, rereport, survival_at, survival_quantile
from tests.conftest import write_config
from tests.monitors.liveness_world import World, add_source

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def report(session, source, at, recipient="telegram", gone_after=None, back_after=None):
    candidate = session.scalars(select(Candidate).where(
        Candidate.subject_type == "source", Candidate.subject_id == source.id)).one()
    event = add_event(session, "user:lead", "reported", "candidate", candidate.id,
                      package_id="p-1", recipient=recipient)
    event.at = at
    if gone_after is not None:
        session.add(SubjectLiveness(
            subject_type="source", subject_id=source.id, target=f"@{source.handle}",
            state="up" if back_after else "gone", first_gone_at=at + gone_after,
            back_at=at + back_after if back_after else None))
    return candidate


def test_kaplan_meier_counts_subjects_still_up_as_censored():
    # Taken down after 1, 2 and 3 hours; two still up after 10 hours.
    samples = [(1, True), (2, True), (3, True), (10, False), (10, False)]
    assert survival_quantile(samples, 0.5) == 3  # 1 - S(3) = 3/5 ≥ 0.5; at 2 h only 2/5
    assert survival_quantile(samples, 0.9) is None  # 40 % are still up
    assert abs(survival_at(samples, 2.5) - 0.6) < 1e-9
    assert survival_at(samples, 11) is None  # nobody watched that long


def test_figures_per_recipient_and_rereport_list(store):
    with store.session() as session:
        fast = add_source(session, "fast_shop", status="reported")
        slow = add_source(session, "slow_shop", status="reported")
        up = add_source(session, "still_up", status="reported")
        back = add_source(session, "came_back", status="reported")
        report(session, fast, NOW - timedelta(days=40), gone_after=timedelta(hours=5))
        report(session, slow, NOW - timedelta(days=40), gone_after=timedelta(days=9))
        report(session, up, NOW - timedelta(days=40))
        report(session, back, NOW - timedelta(days=40), recipient="regulator",
               gone_after=timedelta(days=2), back_after=timedelta(days=3))
    with store.reader() as session:
        rows = reported_subjects(session)
    assert {r.target for r in rows} == {"@fast_shop", "@slow_shop", "@still_up", "@came_back"}
    by = {(f.recipient, f.platform): f for f in figures(rows, NOW)}
    telegram = by[("telegram", "telegram")]
    assert (telegram.reported, telegram.taken_down) == (3, 2)
    assert telegram.median_hours == 9 * 24  # 2 of 3 gone by day 9
    assert telegram.p90_hours is None  # one is still up: never 90 %
    assert telegram.up_after_7d == round(2 / 3, 2) and telegram.up_after_30d == round(1 / 3, 2)
    assert by[("regulator", "telegram")].came_back == 1
    assert by[("all", "all")].reported == 4
    again = {r.target for r in rereport(rows, 7, NOW)}
    assert again == {"@still_up", "@came_back"}  # gone ones are not re-reported; back ones are


def test_kyran_takedowns_end_to_end_with_the_liveness_monitor(tmp_path, db_url):
    with World() as world:
        config = write_config(tmp_path / "kyran.toml", db_url,
                              f'[telegram_preview]\nbase_url = "{world.url}"\n')
        store = open_store(db_url)
        with store.session() as session:
            shop = add_source(session, "shop_hidden")
            report(session, shop, datetime.now(timezone.utc) - timedelta(hours=2))
        store.dispose()
        runner = CliRunner()
        empty = runner.invoke(cli, ["--config", str(config), "takedowns"])
        assert empty.exit_code == 0 and "re-report (0 still up" in empty.stdout
        world.tme.set_preview("shop_hidden", "none")  # Telegram took the channel down
        checked = runner.invoke(cli, ["--config", str(config), "liveness"])
        assert checked.exit_code == 0, checked.output
        result = runner.invoke(cli, ["--config", str(config), "takedowns", "--json"])
        assert result.exit_code == 0, result.output
        record = json.loads(result.stdout)
        (subject,) = record["subjects"]
        assert subject["target"] == "@shop_hidden" and subject["gone_at"]
        assert 0 <= subject["hours_up"] < 3
        overall = [f for f in record["figures"] if f["recipient"] == "all"][0]
        assert overall["taken_down"] == 1 and overall["median_hours"] is not None
        text = runner.invoke(cli, ["--config", str(config), "takedowns"]).stdout
        assert "compare: phishing URLs" in text and "telegram" in text.splitlines()[1]


def test_nothing_reported_says_so(tmp_path, db_url):
    config = write_config(tmp_path / "kyran.toml", db_url)
    result = CliRunner().invoke(cli, ["--config", str(config), "takedowns"])
    assert result.exit_code == 0
    assert result.stdout.startswith("takedowns: nothing reported yet")
