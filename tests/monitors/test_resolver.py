"""Liveness through MTProto: a channel or bot name resolved by an active account, through its
resolve bucket, answered by Telethon's own TL types and errors. Gone is said only when
Telegram says so; a flood wait, no token or no connection is an error (liveness: unknown)."""

import asyncio
from types import SimpleNamespace

import pytest
from telethon import errors, types

from monitors.telegram.limits import AccountLimits
from monitors.telegram.resolver import NoAccount, make_resolver
from tests.monitors.fake_telegram import Clock, FakeTelegram


def account(world, clock, name="main", per_hour=20):
    boundary = world.boundary(name)
    limits = AccountLimits(10, per_hour, clock)
    return SimpleNamespace(name=name, boundary=boundary, reader=SimpleNamespace(limits=limits))


def resolve_all(resolver, names):
    async def run():
        return [await resolver(name) for name in names]
    return asyncio.run(run())


def connected(*accounts):
    for each in accounts:
        each.boundary.connected = True


def test_answers_map_to_up_and_gone_and_how():
    clock = Clock()
    world = FakeTelegram(clock)
    world.channel(1, "open_shop")
    world.channel(2, "hidden_shop", state="private")
    world.channel(3, "banned_shop", restriction=[types.RestrictionReason(
        platform="all", reason="porn", text="This channel is blocked")])
    world.bots["shop_bot"] = 77
    main = account(world, clock)
    connected(main)
    resolver = make_resolver([main], lambda: ["main"])
    names = ["open_shop", "shop_bot", "hidden_shop", "banned_shop", "nobody_here"]
    checks = []
    for name in names:  # three in a row at most (the bucket's burst), then one per 3 minutes
        checks += resolve_all(resolver, [name])
        clock.advance(minutes=3)
    assert [(c.state, c.how) for c in checks] == [
        ("up", None), ("up", None), ("gone", "private"), ("gone", "banned"),
        ("gone", "username_free")]
    assert checks[1].detail == "resolves to a bot"
    assert "This channel is blocked" in checks[3].detail
    assert world.called("main")["ResolveUsernameRequest"] == 5


def test_a_flood_wait_is_an_error_not_gone():
    clock = Clock()
    world = FakeTelegram(clock)
    main = account(world, clock)
    connected(main)
    world.fail("main", "ResolveUsernameRequest", errors.FloodWaitError(request=None, capture=300))
    with pytest.raises(errors.FloodWaitError):
        resolve_all(make_resolver([main], lambda: ["main"]), ["some_shop"])


def test_only_active_connected_accounts_with_a_token_resolve():
    clock = Clock()
    world = FakeTelegram(clock)
    world.channel(1, "open_shop")
    paused, spent, fresh = (account(world, clock, name, per_hour=1)
                            for name in ("paused", "spent", "fresh"))
    connected(paused, spent, fresh)
    spent.reader.limits.resolve.take()  # its only token is gone
    resolver = make_resolver([paused, spent, fresh], lambda: ["spent", "fresh"])
    assert resolve_all(resolver, ["open_shop"])[0].state == "up"
    assert world.called("fresh")["ResolveUsernameRequest"] == 1
    assert world.called("paused")["ResolveUsernameRequest"] == 0
    assert world.called("spent")["ResolveUsernameRequest"] == 0
    with pytest.raises(NoAccount):  # every token spent now: liveness records unknown
        resolve_all(resolver, ["open_shop"])
    clock.advance(hours=1)
    assert resolve_all(resolver, ["open_shop"])[0].state == "up"
