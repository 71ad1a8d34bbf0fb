"""Which account reads which channel, and what an error means for an account.

Channels are shared out by rendezvous hashing on the source's id among the accounts that can
work now: each channel goes to the account with the highest hash of (account, source id), so
adding, stopping or pausing an account moves only that account's channels, and they come back
when it does. The source id (not Telegram's numeric id) is used because a channel must be given
to an account before it is resolved, and access hashes are per account: moving a channel would
cost a second resolution."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from telethon import errors

# The session is gone for good: stop the account, never reconnect in a loop.
FATAL = (errors.AuthKeyUnregisteredError, errors.AuthKeyDuplicatedError,
         errors.SessionRevokedError, errors.SessionExpiredError, errors.UserDeactivatedError,
         errors.UserDeactivatedBanError, errors.AuthKeyInvalidError)

# What a channel error says about the channel: (status, how).
GONE = (
    (errors.ChannelPrivateError, "private", "private"),
    (errors.ChannelInvalidError, "gone", "deleted"),
    (errors.UsernameNotOccupiedError, "gone", "username_free"),
    (errors.UsernameInvalidError, "gone", "username_invalid"),
    (errors.ChannelBannedError, "blocked", "banned"),
)


def fatal_reason(exc: BaseException) -> str | None:
    """One line for an error that ends the account's session, or None."""
    if isinstance(exc, FATAL):
        what = {
            errors.AuthKeyDuplicatedError: "the session was used from two places at once "
            "(AuthKeyDuplicatedError); Telegram revoked it",
            errors.AuthKeyUnregisteredError: "the session is not registered any more "
            "(AuthKeyUnregisteredError: logged out or revoked)",
            errors.SessionRevokedError: "the session was revoked (SessionRevokedError)",
        }.get(type(exc), f"{type(exc).__name__}: the account cannot be used")
        return f"{what}; sign in again with `kyran telegram login`"
    return None


def gone_status(exc: BaseException) -> tuple[str, str] | None:
    for cls, status, how in GONE:
        if isinstance(exc, cls):
            return status, how
    return None


def usable(states: dict, now: datetime, long_pause: timedelta) -> list[str]:
    """Accounts that get channels: not stopped, not paused for longer than `long_pause`."""
    names = []
    for name, row in states.items():
        if row.state == "stopped":
            continue
        if row.state == "paused" and row.paused_until and row.paused_until - now > long_pause:
            continue
        names.append(name)
    return names


def _weight(account: str, source_id: int) -> int:
    digest = hashlib.sha256(f"{account}\x00{source_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def owner(source_id: int, accounts: list[str]) -> str | None:
    """The account that reads this source (rendezvous hashing); None without accounts."""
    if not accounts:
        return None
    return max(accounts, key=lambda account: _weight(account, source_id))
