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
