"""What the daemon runs besides crawls: the in-daemon liveness job (bots and channels resolved
through the running Telegram monitor's accounts when there is one), and the long-lived services,
those wired in code (health endpoint, Telegram monitor, alerter) and those the configuration
names in `daemon.services` (NAME = "module:factory")."""

from __future__ import annotations

from crawler.config import ConfigError, KyranConfig
from crawler.daemon.execute import load_call
from crawler.store.db import Store


def wired_services(config: KyranConfig, store: Store) -> dict[str, object]:
    """The services the configuration switches on: the health endpoint (`daemon.health_listen`),
    the Telegram monitor (an enabled account in `[telegram.accounts]`) and the alerter (a
    channel in `[alerts]`). A secret file unfit for use is a one-line ConfigError."""
    from crawler.daemon.alerts import Alerter
    from crawler.daemon.health import HealthService
    from monitors.telegram.service import TelegramService

    services: dict[str, object] = {}
    if config.daemon.health_listen:
        services["health"] = HealthService(config, store)
    telegram = TelegramService(config, store)
    if telegram.accounts():
        services["telegram"] = telegram
    alerts = config.alerts
    if alerts.webhook_url or alerts.smtp or alerts.telegram_bot:
        try:
            services["alerts"] = Alerter(config, store)
        except ValueError as exc:  # SecretFileError: which file, what to do
            raise ConfigError(f"alerts: {exc}") from None
    return services


def make_services(config: KyranConfig, store: Store) -> dict[str, object]:
    """name -> object with `async run(stop)` (and optionally `async run_once()`): the wired
    ones, then those `daemon.services` names."""
    services = wired_services(config, store)
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

    telegram = services.get("telegram")
    resolver = telegram.resolver() if hasattr(telegram, "resolver") else None
    counts = await check_subjects(config, store, resolver=resolver)
    failed = int(counts.get("failed", 0))
    summary = (f"liveness {'failed' if failed else 'ok'}: {counts.get('checked', 0)} subjects "
               f"checked: {counts.get('up', 0)} up, {counts.get('gone', 0)} gone "
               f"({counts.get('went_gone', 0)} newly, {counts.get('came_back', 0)} came back), "
               f"{counts.get('unknown', 0)} unknown, {counts.get('skipped', 0)} skipped"
               + (f"; {failed} checks failed (network), retried" if failed else ""))
    return {**counts, "ok": not failed, "summary": summary}
