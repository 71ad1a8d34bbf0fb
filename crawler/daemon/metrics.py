"""Prometheus metrics of Kyran, read from the store at scrape time: crawls run in subprocesses
and the daemon restarts, so counters kept in memory would miss or lose them, while the store
holds every post, verdict, candidate, job run and account state.

`build_registry(store)` returns a `CollectorRegistry` of its own (no import-time global) with
`StoreCollector` registered; the daemon may register its own in-memory metrics on it too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from crawler.store.db import Store
from crawler.store.models import Candidate, Post, Source, Verdict
from crawler.store.models_ops import (AlertSent, JobRun, SubjectLiveness, TelegramAccountState,
                                      TelegramPeer)

log = logging.getLogger(__name__)

FAILED_RUNS = ("failed", "timeout")
ACCOUNT_STATES = ("active", "paused", "stopped")


class StoreCollector(Collector):
    """Reads the store on every scrape; a store that does not answer gives `kyran_store_up 0`
    and nothing else (a stale or partial figure would mislead)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("kyran_store_up", "1 when the store answered this scrape.")
        try:
            metrics = self._read()
        except Exception as exc:  # any database failure: report it as a metric, not a 500
            log.warning("metrics: the store did not answer: %s", str(exc).splitlines()[0])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics

    def _read(self) -> list[Metric]:
        with self.store.reader() as session:
            ingested = session.execute(
                select(Source.platform, Source.kind, func.count(Post.id))
                .join(Post, Post.source_id == Source.id)
                .group_by(Source.platform, Source.kind)).all()
            scored = session.execute(
                select(Source.platform, Source.kind, func.count(Verdict.id))
                .join(Post, Post.id == Verdict.subject_id)
                .join(Source, Source.id == Post.source_id)
                .where(Verdict.subject_type == "post")
                .group_by(Source.platform, Source.kind)).all()
            candidates = session.execute(
                select(Candidate.category, Candidate.status, func.count())
                .group_by(Candidate.category, Candidate.status)).all()
            runs = session.execute(
                select(JobRun.job_id, JobRun.status, func.count())
                .group_by(JobRun.job_id, JobRun.status)).all()
            last_ok = session.execute(
                select(JobRun.job_id, func.max(JobRun.finished_at))
                .where(JobRun.status == "ok").group_by(JobRun.job_id)).all()
            accounts = session.scalars(select(TelegramAccountState)).all()
            peers = dict(session.execute(
                select(TelegramPeer.account, func.count()).group_by(TelegramPeer.account)).all())
            alerts = session.execute(select(AlertSent.channel, AlertSent.status, func.count())
                                     .group_by(AlertSent.channel, AlertSent.status)).all()
            liveness = session.execute(
                select(SubjectLiveness.subject_type, SubjectLiveness.state, func.count())
                .group_by(SubjectLiveness.subject_type, SubjectLiveness.state)).all()
        return [*_posts(ingested, scored), *_candidates(candidates), *_jobs(runs, last_ok),
                *_accounts(accounts, peers), *_others(alerts, liveness)]


def _from_rows(family, name: str, documentation: str, labels: list[str], rows) -> Metric:
    """A metric family with one sample per row (its label values, then its count)."""
    metric = family(name, documentation, labels=labels)
    for *values, count in rows:
        metric.add_metric(list(values), count)
    return metric


def _posts(ingested, scored) -> list[Metric]:
    labels = ["platform", "kind"]
    return [_from_rows(CounterMetricFamily, "kyran_posts_ingested",
                       "Posts stored, by source platform and kind.", labels, ingested),
            _from_rows(CounterMetricFamily, "kyran_posts_scored",
                       "Posts scored (with a verdict), by source platform and kind.", labels,
                       scored)]


def _candidates(rows) -> list[Metric]:
    opened = CounterMetricFamily("kyran_candidates_opened", "Candidates opened, by category.",
                                 labels=["category"])
    by_status = GaugeMetricFamily("kyran_candidates", "Candidates now, by category and status.",
                                  labels=["category", "status"])
    totals: dict[str, int] = {}
    for category, status, count in rows:
        totals[category] = totals.get(category, 0) + count
        by_status.add_metric([category, status], count)
    for category, count in sorted(totals.items()):
        opened.add_metric([category], count)
    return [opened, by_status]


def _jobs(runs, last_ok) -> list[Metric]:
    by_status = CounterMetricFamily("kyran_job_runs", "Daemon job runs, by job and how they "
                                    "ended.", labels=["job", "status"])
    errors = CounterMetricFamily("kyran_crawl_errors", "Job runs that failed or timed out.",
                                 labels=["job"])
    failed: dict[str, int] = {}
    for job, status, count in runs:
        by_status.add_metric([job, status], count)
        if status in FAILED_RUNS:
            failed[job] = failed.get(job, 0) + count
        else:
            failed.setdefault(job, 0)
    for job, count in sorted(failed.items()):
        errors.add_metric([job], count)
    success = GaugeMetricFamily("kyran_job_last_success_timestamp_seconds",
                                "When each job last ended well (Unix time).", labels=["job"])
    for job, finished in last_ok:
        if finished is not None:
            success.add_metric([job], finished.timestamp())
    return [by_status, errors, success]


def _accounts(accounts, peers: dict[str, int]) -> list[Metric]:
    waits = CounterMetricFamily("kyran_telegram_flood_waits", "Flood waits Telegram imposed, "
                                "per account.", labels=["account"])
    seconds = CounterMetricFamily("kyran_telegram_flood_wait_seconds", "Seconds of flood "
                                  "waits Telegram imposed, per account.", labels=["account"])
    state = GaugeMetricFamily("kyran_telegram_account_state", "1 for the state each account is "
                              "in (active, paused, stopped).", labels=["account", "state"])
    channels = GaugeMetricFamily("kyran_telegram_channels", "Channels each account reaches.",
                                 labels=["account"])
    last = GaugeMetricFamily("kyran_telegram_last_success_timestamp_seconds",
                             "When each account last read Telegram well (Unix time).",
                             labels=["account"])
    for account in accounts:
        waits.add_metric([account.name], account.flood_waits or 0)
        seconds.add_metric([account.name], account.flood_wait_seconds or 0)
        for name in ACCOUNT_STATES:
            state.add_metric([account.name, name], 1 if account.state == name else 0)
        channels.add_metric([account.name], peers.get(account.name, 0))
        if account.last_success is not None:
            last.add_metric([account.name], account.last_success.timestamp())
    return [waits, seconds, state, channels, last]


def _others(alerts, liveness) -> list[Metric]:
    return [_from_rows(CounterMetricFamily, "kyran_alerts", "Alerts about candidates, by channel "
                       "and status (sent, held, summarised, failed).", ["channel", "status"],
                       alerts),
            _from_rows(GaugeMetricFamily, "kyran_reported_subjects", "Reported or confirmed "
                       "subjects by liveness (up, gone, unknown).", ["type", "state"], liveness)]


def build_registry(store: Store) -> CollectorRegistry:
    """A registry of Kyran's metrics, read from `store` at each scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    return registry
