"""The jobs the configuration asks for, their triggers and the backoff of failed runs."""

from datetime import datetime, timezone

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import ConfigError, load_config
from crawler.daemon.jobspec import job_specs, make_trigger
from crawler.daemon.runs import backoff


def config_of(tmp_path, text: str):
    path = tmp_path / "kyran.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={})


def test_built_in_and_own_jobs(tmp_path):
    config = config_of(tmp_path, (
        '[daemon]\npreview_schedule = "30m"\ncrawl_time_limit = "1h"\n'
        '[daemon.jobs.vip]\nschedule = "5m"\ncommand = ["crawl", "telegram", "vip"]\n'
        'time_limit = "2m"\n'
        '[sites.market]\nstart_urls = ["https://market.example/"]\nschedule = "cron: 0 3 * * *"\n'
        '[retention]\nschedule = "1d"\n'))
    specs = {spec.id: spec for spec in job_specs(config)}
    assert list(specs) == ["crawl:telegram-preview", "crawl:site:market", "retention",
                           "liveness", "vip"]
    assert specs["crawl:site:market"].command == ("crawl", "site", "market")
    assert specs["crawl:site:market"].schedule == "cron: 0 3 * * *"
    assert specs["crawl:telegram-preview"].time_limit == 3600
    assert specs["vip"].time_limit == 120 and specs["vip"].kind == "process"
    assert specs["liveness"].kind == "in-daemon"
    assert specs["retention"].command == ("retention",)


def test_disable_and_its_mistakes(tmp_path):
    config = config_of(tmp_path, '[daemon]\ndisable = ["liveness"]\n')
    assert "liveness" not in {spec.id for spec in job_specs(config)}
    with pytest.raises(ConfigError, match="daemon.disable: no job 'livenes'"):
        job_specs(config_of(tmp_path, '[daemon]\ndisable = ["livenes"]\n'))
    with pytest.raises(ConfigError, match="daemon.jobs: retention: the id of a built-in job"):
        job_specs(config_of(tmp_path, '[daemon.jobs.retention]\nschedule = "1h"\n'
                                      'command = ["retention"]\n'))


@pytest.mark.parametrize("job, message", [
    ('schedule = "1h"\n', "set exactly one of command and call"),
    ('schedule = "1h"\ncommand = ["x"]\ncall = "a:b"\n', "set exactly one of command and call"),
    ('schedule = "soon"\ncommand = ["x"]\n', "expected an interval"),
    ('schedule = "1h"\ncall = "not a path"\n', "expected module:function"),
])
def test_own_jobs_are_checked_on_load(tmp_path, job, message):
    with pytest.raises(ConfigError, match=message):
        config_of(tmp_path, "[daemon.jobs.x]\n" + job)


def test_triggers():
    cron = make_trigger("cron: 30 2 * * *", jitter=0)
    assert isinstance(cron, CronTrigger)
    start = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
    assert cron.get_next_fire_time(None, start) == datetime(2026, 12, 1, 2, 30,
                                                            tzinfo=timezone.utc)
    assert make_trigger("cron: 30 2 * * *", jitter=60).jitter == 60
    interval = make_trigger("6h", jitter=120)
    assert isinstance(interval, IntervalTrigger)
    assert interval.interval.total_seconds() == 6 * 3600 and interval.jitter == 120


def test_backoff_doubles_up_to_its_limit():
    assert [backoff(n, 60, 3600) for n in range(0, 9)] == [
        0, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff(10_000, 60, 21600) == 21600  # no overflow after months of failures
