"""Per-account pacing: token buckets (history reads per minute, username resolutions per hour)
on an injected clock, so tests decide what time it is, and the jitter added to flood waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


class TokenBucket:
    """`rate` tokens per `period` seconds, at most `burst` saved up; starts full."""

    def __init__(self, rate: float, period: float, burst: float, clock: Clock) -> None:
        self.per_second = rate / period
        self.burst = max(1.0, burst)
        self.clock = clock
        self.tokens = self.burst
        self.at = clock().timestamp()

    def _refill(self) -> None:
        now = self.clock().timestamp()
        if now > self.at:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now

    def replay(self, times: list[datetime]) -> None:
        """Start as if tokens had been taken at these moments (from the store), so a restart
        does not hand out a fresh burst."""
        now = self.clock().timestamp()
        self.tokens, self.at = self.burst, now - self.burst / self.per_second
        for moment in sorted(t.timestamp() for t in times):
            if moment > self.at:
                self.tokens = min(self.burst, self.tokens + (moment - self.at) * self.per_second)
                self.at = min(moment, now)
            self.tokens = max(0.0, self.tokens - 1)
        self._refill()

    def wait(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second

    def take(self) -> bool:
        """Take a token if there is one."""
        if self.wait() > 0:
            return False
        self.tokens -= 1
        return True


class AccountLimits:
    """The buckets of one account, from `[telegram]`."""

    def __init__(self, history_per_minute: float, resolve_per_hour: float, clock: Clock) -> None:
        self.history = TokenBucket(history_per_minute, 60, history_per_minute, clock)
        # Resolving is what earns day-long bans: only a few in a row at the default rate.
        self.resolve = TokenBucket(resolve_per_hour, 3600,
                                   min(resolve_per_hour, max(3.0, resolve_per_hour / 20)), clock)
