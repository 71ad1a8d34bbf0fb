"""The daemon's jobs as the configuration describes them: built-in crawls, retention and
liveness, plus `[daemon.jobs.NAME]`, each with its schedule, kind and time limit; and the
APScheduler trigger of a schedule."""

from __future__ import annotations

from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import ConfigError, KyranConfig
from crawler.config_base import parse_interval

LIVENESS_CALL = "crawler.daemon.builtin:liveness_job"


@dataclass(frozen=True)
class JobSpec:
    id: str
    schedule: str
    time_limit: int  # seconds
    command: tuple[str, ...] | None = None  # arguments of `kyran`: run in its own process
    call: str | None = None  # module:function of an async (config, store, services) -> dict

    @property
    def kind(self) -> str:
        return "process" if self.command is not None else "in-daemon"

    def signature(self, jitter: int) -> str:
        """What the job store keeps as the job's name: a job whose signature changed is
        rescheduled, one whose signature is the same keeps its next run time."""
        what = " ".join(self.command) if self.command is not None else self.call
        return f"{self.id} | {self.schedule} | jitter {jitter} | {what}"


def job_specs(config: KyranConfig) -> list[JobSpec]:
    """Every job the configuration asks for, minus `daemon.disable` (ConfigError when that
    names no job)."""
    daemon = config.daemon
    limit = parse_interval(daemon.crawl_time_limit)
    specs = [JobSpec("crawl:telegram-preview", daemon.preview_schedule, limit,
                     command=("crawl", "telegram"))]
    specs += [JobSpec(f"crawl:site:{name}", site.schedule, limit, command=("crawl", "site", name))
              for name, site in sorted(config.sites.items())]
    specs.append(JobSpec("retention", config.retention.schedule, limit, command=("retention",)))
    specs.append(JobSpec("liveness", config.liveness.schedule, limit, call=LIVENESS_CALL))
    for name, job in sorted(daemon.jobs.items()):
        own_limit = parse_interval(job.time_limit) if job.time_limit else limit
        specs.append(JobSpec(name, job.schedule, own_limit,
                             command=tuple(job.command) if job.command is not None else None,
                             call=job.call))
    known = [spec.id for spec in specs]
    if len(set(known)) != len(known):
        clash = sorted({name for name in known if known.count(name) > 1})
        raise ConfigError(f"daemon.jobs: {', '.join(clash)}: the id of a built-in job")
    unknown = sorted(set(daemon.disable) - set(known))
    if unknown:
        raise ConfigError(f"daemon.disable: no job {', '.join(map(repr, unknown))} "
                          f"(jobs: {', '.join(known)})")
    return [spec for spec in specs if spec.id not in daemon.disable]


def make_trigger(schedule: str, jitter: int):
    """The trigger of a schedule checked by crawler.config_base.check_schedule."""
    text = schedule.strip()
    if text.startswith("cron:"):
        trigger = CronTrigger.from_crontab(text[len("cron:"):].strip(), timezone="UTC")
        trigger.jitter = jitter or None
        return trigger
    return IntervalTrigger(seconds=parse_interval(text), jitter=jitter or None, timezone="UTC")
