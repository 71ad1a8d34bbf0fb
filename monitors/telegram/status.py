"""What `kyran status` shows of the monitor, read from the store: per account its state, last
success and error, flood waits, and the channels it watches, joined, and overdue (not read for
twice the poll interval)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from crawler.store.db import Store
from crawler.store.models_ops import TelegramAccountState, TelegramPeer


def account_overview(store: Store, now: datetime, poll_interval: timedelta) -> list[dict]:
    """One dict per account known to the store (never a session or any secret)."""
    late = now - 2 * poll_interval
    with store.reader() as session:
        peers = TelegramPeer.__table__.c
        counts = dict(session.execute(select(peers.account, func.count())
                                      .group_by(peers.account)).all())
        joined = dict(session.execute(select(peers.account, func.count())
                                      .where(peers.joined.is_(True)).group_by(peers.account)).all())
        overdue = dict(session.execute(
            select(peers.account, func.count())
            .where(peers.joined.is_(False),
                   (peers.last_polled.is_(None)) | (peers.last_polled < late))
            .group_by(peers.account)).all())
        rows = session.scalars(select(TelegramAccountState).order_by(TelegramAccountState.name))
        return [{
            "account": row.name, "state": row.state, "paused_until": row.paused_until,
            "stop_reason": row.stop_reason, "last_success": row.last_success,
            "last_error": row.last_error, "last_error_at": row.last_error_at,
            "flood_waits": row.flood_waits, "flood_wait_seconds": row.flood_wait_seconds,
            "channels": counts.get(row.name, 0),
            "joined": joined.get(row.name, 0), "overdue": overdue.get(row.name, 0),
        } for row in rows]
