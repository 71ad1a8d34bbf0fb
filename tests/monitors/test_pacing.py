"""Token buckets on an injected clock (including a restart that replays the store's recent
calls) and the stable assignment of channels to accounts."""

from datetime import timedelta

from monitors.telegram.accounts import owner
from monitors.telegram.limits import TokenBucket
from tests.monitors.fake_telegram import Clock


def test_bucket_burst_refill_and_wait():
    clock = Clock()
    bucket = TokenBucket(10, 60, 10, clock)
    assert sum(bucket.take() for _ in range(15)) == 10
    assert bucket.wait() == 6.0  # one token every 6 s
    clock.advance(seconds=6)
    assert bucket.take() and not bucket.take()
    clock.advance(hours=1)
    assert sum(bucket.take() for _ in range(15)) == 10  # never more than the burst


def test_bucket_replays_recent_calls_after_a_restart():
    clock = Clock()
    bucket = TokenBucket(20, 3600, 3, clock)
    bucket.replay([clock() - timedelta(seconds=s) for s in (10, 20, 30)])
    assert not bucket.take()  # three resolutions in the last minute: the burst is spent
    assert abs(bucket.wait() - 150) < 0.01  # 180 s a token, 30 s of refill since the first
    fresh = TokenBucket(20, 3600, 3, clock)
    fresh.replay([clock() - timedelta(hours=2)])
    assert sum(fresh.take() for _ in range(5)) == 3


def test_assignment_is_stable_and_moves_only_the_lost_accounts_channels():
    accounts = ["a", "b", "c"]
    before = {sid: owner(sid, accounts) for sid in range(3000)}
    shares = {name: sum(1 for who in before.values() if who == name) for name in accounts}
    assert all(800 < count < 1200 for count in shares.values())
    after = {sid: owner(sid, ["a", "c"]) for sid in range(3000)}
    moved = [sid for sid in before if before[sid] != after[sid]]
    assert all(before[sid] == "b" for sid in moved) and len(moved) == shares["b"]
    assert owner(5, []) is None
