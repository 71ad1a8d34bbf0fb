"""`kyran run --once` against the local fake t.me: the preview crawl runs in its own process, is
recorded in job_run with its summary, shows in `kyran jobs`, and is not run again before its
next time (on SQLite and PostgreSQL)."""

import json

from tests.daemon.daemon_helpers import daemon_config, job_runs
from tests.spiders.crawl_helpers import shop_world, stored
from tests.spiders.test_telegram_crawl import serve

PREVIEW = "crawl:telegram-preview"


def test_once_runs_the_preview_crawl_and_records_it(kyran, tmp_path, db_url):
    with serve(shop_world(channels=2)) as server:
        config = daemon_config(
            tmp_path / "kyran.toml", db_url, base_url=server.url,
            channels='"shop_0000", "shop_0001"', disable='"liveness", "retention"',
            daemon='preview_schedule = "1h"\n[daemon.jobs.sample]\nschedule = "1h"\n'
            'call = "tests.daemon.sample_jobs:succeeds"\n')
        result = kyran("run", "--once", config=config)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "Traceback" not in result.stderr
        assert stored(db_url)[0] == 90

        runs = {run.job_id: run for run in job_runs(db_url)}
        assert set(runs) == {PREVIEW, "sample"}
        crawl = runs[PREVIEW]
        assert (crawl.status, crawl.exit_code, crawl.stored) == ("ok", 0, 90)
        assert crawl.summary == "crawl telegram ok: 90 posts stored of 90 seen, 6 pages"
        assert crawl.pid and crawl.finished_at >= crawl.started_at
        assert (runs["sample"].status, runs["sample"].summary, runs["sample"].stored) == (
            "ok", "sample ok", 3)

        listing = kyran("jobs", "--json", config=config)
        assert listing.returncode == 0, listing.stderr
        jobs = {record["job"]: record for record in map(json.loads, listing.stdout.splitlines())}
        assert set(jobs) == {PREVIEW, "sample"}
        assert jobs[PREVIEW]["last_result"] == "ok"
        assert jobs[PREVIEW]["schedule"] == "1h"
        assert jobs[PREVIEW]["consecutive_failures"] == 0
        assert jobs[PREVIEW]["next_run"] > jobs[PREVIEW]["last_start"]
        table = kyran("jobs", config=config)
        assert table.stdout.splitlines()[0].split()[:3] == ["JOB", "SCHEDULE", "LAST"]
        assert "crawl telegram ok: 90 posts stored" in table.stdout

        # Nothing is due an hour ahead: a second --once runs nothing and stores nothing twice.
        again = kyran("run", "--once", config=config)
        assert again.returncode == 0, again.stderr[-3000:]
        assert len(job_runs(db_url)) == 2
        assert stored(db_url)[0] == 90


def test_once_fails_when_a_job_fails(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=(
        '[daemon.jobs.good]\nschedule = "1h"\ncall = "tests.daemon.sample_jobs:succeeds"\n'
        '[daemon.jobs.empty]\nschedule = "1h"\ncall = "tests.daemon.sample_jobs:reports_failure"'
        '\n[daemon.jobs.unknown-command]\nschedule = "1h"\ncommand = ["nosuch"]\n'))
    result = kyran("run", "--once", config=config)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    runs = {run.job_id: run for run in job_runs(db_url)}
    assert runs["good"].status == "ok"
    assert runs["empty"].status == "failed"
    assert runs["empty"].summary == "nothing stored: the source answered with no posts"
    assert runs["unknown-command"].status == "failed"
    assert runs["unknown-command"].exit_code == 2
    assert "No such command" in runs["unknown-command"].summary


def test_a_bad_daemon_configuration_is_one_line(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, disable='"nosuch"')
    result = kyran("run", "--once", config=config)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kyran: configuration error: daemon.disable: no job 'nosuch' (jobs: "
        "crawl:telegram-preview, retention, liveness)"]


def test_jobs_on_a_store_the_daemon_never_ran_on(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, disable="")
    assert kyran("db", "upgrade", config=config).returncode == 0
    listing = kyran("jobs", "--json", config=config)
    assert listing.returncode == 0, listing.stderr
    records = [json.loads(line) for line in listing.stdout.splitlines()]
    assert [r["job"] for r in records] == [PREVIEW, "retention", "liveness"]
    assert {(r["last_result"], r["next_run"], r["consecutive_failures"]) for r in records} == {
        (None, None, 0)}
