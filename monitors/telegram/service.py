"""The monitor as a long-lived service: the Telethon clients of the enabled accounts are built
inside the running event loop (Telethon 1.36 needs that with a proxy), each behind the real
boundary, and one `TelegramMonitor` reads through them into its own processing chain and
capture writer. An account whose client cannot be built (no session yet, a bad proxy) is
recorded as stopped with the one-line reason; the other accounts go on."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from crawler.config import KyranConfig
from crawler.store.db import Store

log = logging.getLogger("kyran.telegram")
ACTOR = "component:telegram-monitor"


class TelegramService:
    def __init__(self, config: KyranConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.monitor = None

    def accounts(self) -> list[str]:
        return sorted(name for name, account in self.config.telegram.accounts.items()
                      if account.enabled)

    def _monitor(self):
        from crawler.store.captures import CaptureWriter
        from monitors.telegram import TelegramMonitor, TelethonBoundary
        from monitors.telegram import ledger
        from monitors.telegram.connection import TelegramSetupError, build_client
        from monitors.telegram.session import SessionFileError, read_session
        from pipelines.chain import ProcessingChain

        boundaries = {}
        for name in self.accounts():
            try:
                session = read_session(self.config, name)
                if session is None:  # never connect unsigned: it would sign nobody in
                    raise TelegramSetupError(f"account {name} is not signed in: run kyran "
                                             f"telegram login --account {name}")
                boundaries[name] = TelethonBoundary(build_client(self.config, name,
                                                                 session=session))
            except (TelegramSetupError, SessionFileError) as exc:
                log.error("telegram account %s cannot start: %s", name, exc)
                ledger.stop_account(self.store, name, str(exc), datetime.now(timezone.utc))
        chain = ProcessingChain(self.store, self.config, ACTOR)
        captures = CaptureWriter(self.config.captures_path, prefix="telegram")
        self.monitor = TelegramMonitor(self.config, self.store, chain, captures, boundaries)
        return self.monitor, captures

    def resolver(self):
        """Liveness's `resolver(name) -> Check` through the running monitor's accounts, or None
        while no monitor runs."""
        return self.monitor.resolver() if self.monitor is not None else None

    async def run(self, stop) -> None:
        monitor, captures = self._monitor()
        try:
            await monitor.run(stop)
        finally:
            captures.close()

    async def run_once(self) -> dict:
        monitor, captures = self._monitor()
        try:
            return await monitor.run_once()
        finally:
            captures.close()
