"""What every configuration section shares: strict pydantic models and interval parsing."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict


# An id written into configuration, file names and exchanged packages: a policy, a dismissal
# reason, an organisation. Lower-case letters, digits, - and _, starting with a letter or digit.
IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class Section(BaseModel):
    # Every number is finite: `inf` or `nan` in a delay or a limit would stall a crawl for ever.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


def parse_interval(value: str) -> int:
    """Seconds in an interval written as ``30s``, ``15m``, ``6h`` or ``1d``."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", value)
    if not match:
        raise ValueError("expected an interval such as 30m, 6h or 1d")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def check_schedule(value: str) -> str:
    """A job's schedule: an interval (``30m``, ``6h``, ``1d``) or ``cron: MIN HOUR DAY MONTH
    WEEKDAY`` (crontab syntax, in UTC). Raises ValueError with what is expected."""
    if value.strip().startswith("cron:"):
        from apscheduler.triggers.cron import CronTrigger

        expression = value.strip()[len("cron:"):].strip()
        try:
            CronTrigger.from_crontab(expression, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"not a valid crontab expression {expression!r}: {exc}") from None
        return value
    parse_interval(value)
    return value
