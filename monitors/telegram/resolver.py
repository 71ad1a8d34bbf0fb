"""Liveness through MTProto: is a channel or bot username still there? One resolve per name,
through an active account's resolve token bucket (the same one the monitor spends, so liveness
never earns the account a flood wait), with Telegram's answer mapped to up or gone-and-how.
Errors that say nothing about the subject (flood wait, no token, a lost connection) are raised:
liveness counts them as unknown, never as gone."""

from __future__ import annotations

from telethon import errors, functions, types

from monitors.liveness_checks import Check
from monitors.telegram.accounts import GONE
from monitors.telegram.convert import restriction_text


class NoAccount(ConnectionError):
    """No account can resolve now (none active, or out of resolve tokens)."""


def answer_to_check(result) -> Check:
    """A `contacts.ResolvedPeer` as a liveness check."""
    peer = result.peer
    if isinstance(peer, types.PeerChannel):
        chat = next((c for c in result.chats if c.id == peer.channel_id), None)
        if chat is None or isinstance(chat, types.ChannelForbidden):
            return Check("gone", "private", "the channel is no longer public")
        reason = restriction_text(chat)
        if reason:
            return Check("gone", "banned", reason[:300])
        return Check("up", None, "resolves to a channel")
    user = next((u for u in result.users if u.id == getattr(peer, "user_id", None)), None)
    if user is not None and getattr(user, "deleted", False):
        return Check("gone", "deleted", "the account was deleted")
    if user is not None:
        reason = restriction_text(user)
        if reason:
            return Check("gone", "banned", reason[:300])
    return Check("up", None, "resolves to a bot" if getattr(user, "bot", False) else
                 "resolves to a user")


def error_to_check(exc: errors.RPCError) -> Check | None:
    """Telegram saying the name is gone, or None when the error says nothing about it."""
    for cls, _status, how in GONE:
        if isinstance(exc, cls):
            return Check("gone", how, type(exc).__name__)
    return None


def make_resolver(accounts: list, usable):
    """An async `resolver(name) -> Check` over the readers of `accounts` (objects with
    `.name`, `.boundary`, `.reader.limits.resolve`); `usable()` names the accounts that may
    call now (active, connected)."""

    async def resolver(name: str) -> Check:
        ready = set(usable())
        for account in accounts:
            bucket = account.reader.limits.resolve
            if account.name not in ready or not account.boundary.is_connected():
                continue
            if bucket.wait() > 0 or not bucket.take():
                continue
            try:
                result = await account.boundary.call(
                    functions.contacts.ResolveUsernameRequest(name))
            except errors.RPCError as exc:
                check = error_to_check(exc)
                if check is None:
                    raise
                return check
            return answer_to_check(result)
        raise NoAccount("no Telegram account can resolve a username now (none active and "
                        "connected with a resolve token left)")

    return resolver
