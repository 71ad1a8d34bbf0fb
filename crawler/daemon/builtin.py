"""What the daemon runs besides crawls: the in-daemon liveness job, and the long-lived services,
those wired in code (the Telegram monitor, the alerter) and those the configuration names in
`daemon.services` (NAME = "module:factory")."""

from __future__ import annotations

from crawler.config import ConfigError, KyranConfig
from crawler.daemon.execute import load_call
from crawler.store.db import Store


def make_services(config: KyranConfig, store: Store) -> dict[str, object]:
    """name -> object with `async run(stop)` (and optionally `async run_once()`)."""
    services: dict[str, object] = {}
    for name, dotted in sorted(config.daemon.services.items()):
        try:
            services[name] = load_call(dotted)(config, store)
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            raise ConfigError(f"daemon.services.{name}: cannot make {dotted}: {exc}") from None
    return services


async def liveness_job(config: KyranConfig, store: Store, services: dict) -> dict:
    """The `liveness` job: one pass of monitors.liveness over reported and confirmed subjects
    (its summary counts are the run's summary)."""
    from monitors.liveness import check_subjects

    return await check_subjects(config, store)
