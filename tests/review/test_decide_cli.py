"""`kyran decide` in a subprocess, on SQLite and PostgreSQL: decisions recorded as the same events
the web app records, the actor a user in the store, and every mistake one line with exit 1."""

from __future__ import annotations

from sqlalchemy import select

from crawler.store.models import Candidate, Event
from tests.conftest import run_kyran, write_config
from tests.review.test_decisions_support import add_candidate, add_user

REVIEW = """
[review]
policies = { drug-sale = "Sale of drugs", local-law = "Article 1 of the local law" }
dismiss_reasons = { news = "News or prevention", legit-job = "A legitimate job" }
"""


def setup(store, tmp_path, db_url):
    with store.session() as session:
        add_user(session, "ann")
        add_user(session, "lee", "lead")
        ids = [add_candidate(session, subject_id=i).id for i in (1, 2)]
    return write_config(tmp_path / "kyran.toml", db_url, REVIEW), ids


def test_decide_records_the_same_events(store, tmp_path, db_url):
    config, (a, b) = setup(store, tmp_path, db_url)
    done = run_kyran("decide", str(a), "confirm", "--policy", "local-law", "--category",
                     "recruitment", "--note", "courier ad", "--as", "ann", config=config)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"candidate #{a}: confirm as recruitment under local-law by "
                                  "ann; now confirmed (event ")
    done = run_kyran("decide", str(b), "dismiss", "--reason", "news", config=config,
                     env={"USER": "lee"})
    assert done.returncode == 0, done.stderr
    with store.reader() as session:
        found = list(session.scalars(select(Event).order_by(Event.id)))
        assert [(e.action, e.actor, e.subject_id) for e in found] == [
            ("decision.confirm", "user:ann", a), ("decision.dismiss", "user:lee", b)]
        assert found[0].payload == {"previous_status": "open", "previous_category": "sale",
                                    "category": "recruitment", "policy": "local-law",
                                    "note": "courier ad", "via": "cli"}
        assert session.get(Candidate, b).reason == "news"
    done = run_kyran("decide", str(b), "reopen", "--as", "lee", config=config)
    assert done.returncode == 0 and "now open" in done.stdout
    done = run_kyran("decide", str(b), "assign", "--to", "ann", "--as", "lee", config=config)
    assert done.returncode == 0 and "assign to ann by lee" in done.stdout


def test_mistakes_are_one_line_and_exit_1(store, tmp_path, db_url):
    config, (a, _) = setup(store, tmp_path, db_url)
    cases = [
        (["decide", str(a), "confirm", "--policy", "drug-sale", "--as", "nobody"],
         "no user 'nobody' in the store"),
        (["decide", str(a), "escalate"], "no user 'root-less' in the store"),
        (["decide", "abc", "escalate", "--as", "ann"], "candidate id: expected a whole number"),
        (["decide", "99999", "escalate", "--as", "ann"], "no candidate 99999"),
        (["decide", str(a), "dismiss", "--as", "ann"], "dismiss needs a reason: one of news, "
         "legit-job"),
        (["decide", str(a), "dismiss", "--reason", "bored", "--as", "ann"],
         "unknown reason 'bored'"),
        (["decide", str(a), "confirm", "--as", "ann", "--policy", "drug-propaganda"],
         "unknown policy 'drug-propaganda': expected one of drug-sale, local-law"),
        (["decide", str(a), "reopen", "--as", "ann"], "reopen needs the lead role"),
    ]
    for args, message in cases:
        done = run_kyran(*args, config=config, env={"USER": "root-less"})
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, (
            args, done.stderr)
        assert "Traceback" not in done.stderr
    done = run_kyran("decide", str(a), "dismiss", "--reason", "news", "--as", "ann",
                     config=config)
    assert done.returncode == 0
    done = run_kyran("decide", str(a), "confirm", "--policy", "drug-sale", "--as", "ann",
                     config=config)
    assert done.returncode == 1
    assert "already dismissed by ann; a lead must reopen it first" in done.stderr
    with store.reader() as session:
        assert [e.action for e in session.scalars(select(Event))] == ["decision.dismiss"]


def test_lists_and_usage(store, tmp_path, db_url):
    config, _ = setup(store, tmp_path, db_url)
    done = run_kyran("decide", "--list-policies", config=config)
    assert done.returncode == 0
    assert done.stdout.splitlines() == [f"{'drug-sale':<24} Sale of drugs",
                                        f"{'local-law':<24} Article 1 of the local law"]
    done = run_kyran("decide", "--list-reasons", config=config)
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["news", "legit-job"]
    done = run_kyran("decide", config=config)
    assert done.returncode == 2 and "give a candidate ID and an action" in done.stderr
    done = run_kyran("decide", "1", "explode", config=config)
    assert done.returncode == 2 and "'explode' is not one of" in done.stderr
