"""Alerts: each new candidate at or above `alerts.min_priority` is pushed once to every
configured channel (webhook, e-mail, Telegram bot), at most `alerts.max_per_hour` per channel.

Per channel and per look (`run_once`):
- candidates still open, at or above the priority and never alerted on that channel are sent,
  highest priority first, while the hour's budget lasts (a row `sent` in `alert_sent`);
- the rest are `held`; the last alert sent sums them up ("and N more held: #12, #15 …"), after
  which they are `summarised`; with no new candidate to send, held ones go out as one summary
  once the budget allows;
- a send that fails is recorded (`failed`, its error in one line, `attempts`) and tried again
  later (backing off from `check_interval` to an hour); the loop never stops for it.

`Alerter(config, store, clock=None).run_once()` returns what it did per channel; `run(stop)`
looks every `alerts.check_interval` seconds until `stop` (an asyncio.Event) is set. Store work
and sends run in threads, so the daemon's event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.config import KyranConfig
from crawler.daemon.alert_channels import Alert, SendError, build_channels, clean_line
from crawler.defang import one_line
from crawler.store.db import Store
from crawler.store.models import Candidate
from crawler.store.models_ops import AlertSent
from crawler.store.views import subject_line

log = logging.getLogger(__name__)

RETRY_MAX = 3600  # seconds between tries of a failed send at most


def describe(session: Session, candidate: Candidate, review_url: str | None) -> Alert:
    """The alert for one candidate: scraped parts made safe (defanged, one line)."""
    reasons = []
    for reason in (candidate.reasons or [])[:5]:
        if isinstance(reason, dict):
            words = ", ".join(one_line(str(w)) for w in (reason.get("words") or [])[:6])
            rule = one_line(str(reason.get("rule", "")))
            reasons.append(f"{rule} ({words})" if words else rule)
        else:
            reasons.append(one_line(str(reason)))
    link = f"{review_url.rstrip('/')}/candidates/{candidate.id}" if review_url else None
    return Alert(candidate.id, candidate.category, candidate.priority,
                 one_line(subject_line(session, candidate))[:300], reasons, link)


class Alerter:
    def __init__(self, config: KyranConfig, store: Store,
                 clock: Callable[[], datetime] | None = None, channels: list | None = None
                 ) -> None:
        """`channels` defaults to those configured; reading their secret files may raise
        SecretFileError (one line: which file, what to do)."""
        self.config, self.store = config, store
        self.alerts = config.alerts
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.channels = channels if channels is not None else build_channels(
            self.alerts, config.home)

    def secrets(self) -> list[str]:
        """The secrets the channels read, for the log's masker (`SecretMasker.add`)."""
        return [c.secret for c in self.channels if getattr(c, "secret", None)]

    async def run(self, stop: asyncio.Event) -> None:
        """Look for new candidates every `check_interval` seconds until `stop` is set (with no
        channel configured, only wait for `stop`)."""
        if not self.channels:
            await stop.wait()
            return
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the store was away, say: log it and look again later
                log.exception("alerts: this look failed; trying again in %d s",
                              self.alerts.check_interval)
            try:
                await asyncio.wait_for(stop.wait(), self.alerts.check_interval)
            except TimeoutError:
                pass

    async def run_once(self) -> dict:
        """One look on every channel: {channel: {"sent": n, "held": n, "failed": n,
        "summarised": n}}."""
        report = {}
        for channel in self.channels:
            report[channel.name] = await self._channel_once(channel)
        return report

    async def _channel_once(self, channel) -> dict:
        now = self.clock()
        plan = await asyncio.to_thread(self._plan, channel.name, now)
        counts = {"sent": 0, "held": len(plan["overflow"]), "failed": 0, "summarised": 0}
        held = plan["held"]
        outgoing = list(plan["send"])
        if not outgoing and held and plan["budget"] > 0:
            outgoing = [Alert(None)]  # only the summary of those held back
        for position, alert in enumerate(outgoing):
            last = position == len(outgoing) - 1
            if last:
                alert.more = [(cid, priority, category) for cid, priority, category in held]
            try:
                await asyncio.to_thread(channel.send, alert)
            except SendError as exc:
                error = str(exc)
            except Exception as exc:  # a channel's bug must not stop the others
                error = clean_line(f"{type(exc).__name__}: {exc}", getattr(channel, "secret",
                                                                           None))
            else:
                error = None
            await asyncio.to_thread(self._record, channel.name, alert, error, last and held,
                                    now)
            if error:
                counts["failed"] += 1
                log.warning("alerts: %s: candidate %s not sent: %s", channel.name,
                            alert.candidate_id or "summary", error)
            else:
                counts["sent"] += 1 if alert.candidate_id else 0
                if last and held:
                    counts["summarised"] += len(held)
        return counts

    def _plan(self, channel: str, now: datetime) -> dict:
        """What to send on `channel` now, and what to hold back; new overflow is recorded."""
        with self.store.session() as session:
            sent = session.scalar(select(func.count()).select_from(AlertSent).where(
                AlertSent.channel == channel, AlertSent.status == "sent",
                AlertSent.at > now - timedelta(hours=1))) or 0
            budget = max(0, self.alerts.max_per_hour - sent)
            wanted = session.scalars(
                select(Candidate).where(Candidate.status == "open",
                                        Candidate.priority >= self.alerts.min_priority)
                .order_by(Candidate.priority.desc(), Candidate.id)).all()
            rows = {}  # only the rows of these candidates: the table grows for months
            ids = [c.id for c in wanted]
            for start in range(0, len(ids), 500):
                rows.update((row.candidate_id, row) for row in session.scalars(
                    select(AlertSent).where(AlertSent.channel == channel,
                                            AlertSent.candidate_id.in_(ids[start:start + 500]))))
            due = [c for c in wanted if c.id not in rows or self._retry_due(rows[c.id], now)]
            send, overflow = due[:budget], due[budget:]
            for candidate in overflow:
                row = rows.get(candidate.id)
                if row is None:
                    session.add(AlertSent(candidate_id=candidate.id, channel=channel,
                                          status="held", at=now, attempts=0))
            session.flush()
            held = session.execute(
                select(Candidate.id, Candidate.priority, Candidate.category)
                .join(AlertSent, AlertSent.candidate_id == Candidate.id)
                .where(AlertSent.channel == channel, AlertSent.status == "held")
                .order_by(Candidate.priority.desc(), Candidate.id)).all()
            return {"budget": budget, "send": [describe(session, c, self.alerts.review_url)
                                               for c in send],
                    "overflow": [c.id for c in overflow if c.id not in rows],
                    "held": [tuple(row) for row in held]}

    def _retry_due(self, row: AlertSent, now: datetime) -> bool:
        if row.status != "failed":
            return False
        wait = min(RETRY_MAX, self.alerts.check_interval * 2 ** max(0, row.attempts - 1))
        return row.at <= now - timedelta(seconds=wait)

    def _record(self, channel: str, alert: Alert, error: str | None, summarised,
                now: datetime) -> None:
        with self.store.session() as session:
            if alert.candidate_id is not None:
                row = session.scalars(select(AlertSent).where(
                    AlertSent.channel == channel,
                    AlertSent.candidate_id == alert.candidate_id)).one_or_none()
                if row is None:
                    row = AlertSent(candidate_id=alert.candidate_id, channel=channel,
                                    attempts=0)
                    session.add(row)
                row.status = "failed" if error else "sent"
                row.error = error
                row.at = now
                row.attempts = (row.attempts or 0) + 1
            if summarised and not error:
                ids = [cid for cid, _, _ in alert.more]
                for row in session.scalars(select(AlertSent).where(
                        AlertSent.channel == channel, AlertSent.status == "held",
                        AlertSent.candidate_id.in_(ids))):
                    row.status = "summarised"
                    row.at = now
