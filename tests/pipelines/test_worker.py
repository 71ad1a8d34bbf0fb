"""The chain in its own process: it stores what it is given, in order, and its death is told."""

import os
import signal
import time

import pytest
from sqlalchemy import func, select

from crawler.items import CrawlCheckpoint
from crawler.store.models import Post, Source
from pipelines.worker import ChainWorker, ChainWorkerDied
from tests.pipelines.test_chain import shop_channel_items


def test_worker_stores_in_order_and_reports(store, config, tmp_path):
    path = tmp_path / "kyran.toml"
    worker = ChainWorker(str(path), "component:test")
    worker.start()
    worker.submit(shop_channel_items())
    worker.submit([CrawlCheckpoint("kristall_shop", 4)])
    worker.close()
    assert worker.stats["posts/new"] == 4 and worker.stats["verdicts/sale"] == 4
    assert not worker.process.is_alive()
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 4
        assert session.scalars(select(Source.crawl_cursor).where(
            Source.handle == "kristall_shop")).one() == 4


def test_a_dead_worker_is_reported_at_the_next_hand_over(store, config, tmp_path):
    worker = ChainWorker(str(tmp_path / "kyran.toml"), "component:test")
    worker.start()
    worker.submit(shop_channel_items())
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.join(10)
    with pytest.raises(ChainWorkerDied, match="fetched again on the next run"):
        for _ in range(20):
            worker.submit(shop_channel_items())
            time.sleep(0.05)


def test_an_orphaned_worker_exits_by_itself(store, config, tmp_path):
    """The crawl is killed, maybe half way through handing over a batch (larger than a pipe's
    buffer): its chain process must not wait for the rest of it forever."""
    import subprocess
    import sys

    code = (
        "import sys, time\n"
        "from pipelines.worker import ChainWorker\n"
        "from tests.pipelines.test_chain import shop_channel_items\n"
        f"w = ChainWorker({str(tmp_path / 'kyran.toml')!r}, 'component:test')\n"
        "w.start()\n"
        "print(w.process.pid, flush=True)\n"
        "big = [item for i in range(60) for item in shop_channel_items(start=10 * i + 1)]\n"
        "while True:\n"
        "    w.submit(big)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(3)
    parent.kill()  # SIGKILL: no cleanup
    parent.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the orphaned chain process did not exit within 60 s")


def test_a_stuck_worker_is_given_up_within_the_bound(store, config, tmp_path):
    """A chain process that stops answering without dying (a store black-holed mid-statement;
    here the process is frozen) used to make the hand-over spin for ever: it gives up after
    `timeout` seconds of silence, stops the child and says why."""
    worker = ChainWorker(str(tmp_path / "kyran.toml"), "component:test", depth=1, timeout=3)
    worker.start()
    worker.submit(shop_channel_items())
    os.kill(worker.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    try:
        with pytest.raises(ChainWorkerDied, match="store.write_timeout"):
            for index in range(1000):
                worker.submit(shop_channel_items(start=10 * index + 10))
    finally:
        if worker.process.is_alive():
            os.kill(worker.process.pid, signal.SIGKILL)
    assert time.monotonic() - started < 3 + 10
    worker.process.join(10)
    assert not worker.process.is_alive()


def test_closing_a_stuck_worker_is_bounded_too(store, config, tmp_path):
    worker = ChainWorker(str(tmp_path / "kyran.toml"), "component:test", timeout=3)
    worker.start()
    worker.submit(shop_channel_items())
    os.kill(worker.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    try:
        with pytest.raises(ChainWorkerDied, match="took no batch"):
            worker.close()
    finally:
        if worker.process.is_alive():
            os.kill(worker.process.pid, signal.SIGKILL)
    assert time.monotonic() - started < 3 + 10


def test_a_failed_worker_says_why_in_one_line(store, config, tmp_path, capfd):
    """A child that fails reports one line, not its traceback."""
    path = tmp_path / "kyran.toml"
    path.write_text(path.read_text() + "\n[detection]\nlexicon_dir = \"nowhere\"\n")
    worker = ChainWorker(str(path), "component:test")
    worker.start()
    with pytest.raises(ChainWorkerDied) as caught:
        worker.close()
    assert "lexicon_dir" in str(caught.value) and "\n" not in str(caught.value)
    assert "Traceback" not in capfd.readouterr().err
