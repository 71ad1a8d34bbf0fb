"""Jobs and services the daemon tests configure (`[daemon.jobs.NAME] call = ...`,
`daemon.services`): they run inside the real daemon, in its loop. They talk to the test through
files in the configuration's folder (config.home), never through timing."""

from __future__ import annotations

import asyncio
from pathlib import Path


async def succeeds(config, store, services) -> dict:
    return {"summary": "sample ok", "stored": 3}


async def always_fails(config, store, services) -> dict:
    raise RuntimeError("boom, as every time")


async def reports_failure(config, store, services) -> dict:
    return {"ok": False, "error": "nothing stored: the source answered with no posts"}


async def _file_appears(path: Path) -> None:
    while not path.exists():
        await asyncio.sleep(0.05)


async def waits_for_release(config, store, services) -> dict:
    """Marks itself started, then finishes once the test creates the file `release` (and marks
    that it did)."""
    (config.home / "started").touch()
    await _file_appears(config.home / "release")
    (config.home / "finished").touch()
    return {"summary": "released", "stored": 1}


async def hangs(config, store, services) -> dict:
    (config.home / "hanging").touch()
    await asyncio.Event().wait()
    return {}


class FlakyService:
    """Crashes on its first two starts (counted in the file `service-starts`), then runs until
    the daemon stops it."""

    def __init__(self, config, store) -> None:
        self.counter = Path(config.home) / "service-starts"

    async def run(self, stop: asyncio.Event) -> None:
        starts = int(self.counter.read_text()) + 1 if self.counter.exists() else 1
        self.counter.write_text(str(starts))
        if starts <= 2:
            raise ConnectionError(f"start {starts} lost its connection")
        await stop.wait()


def make_flaky(config, store) -> FlakyService:
    return FlakyService(config, store)


class OnceService:
    """A service that also offers `run_once` (what `kyran run --once` calls)."""

    def __init__(self, config, store) -> None:
        self.home = Path(config.home)

    async def run(self, stop: asyncio.Event) -> None:
        (self.home / "service-ran").touch()
        await stop.wait()

    async def run_once(self) -> dict:
        (self.home / "service-ran-once").touch()
        return {"polled": 2}


def make_once(config, store) -> OnceService:
    return OnceService(config, store)
