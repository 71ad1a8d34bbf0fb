"""One job's process, run by the daemon's runner directly: its summary line is read whatever it
writes, a job ignoring SIGTERM is killed with its whole process group at the limit, and the exit
status decides the result."""

import asyncio
import sys
import textwrap

from crawler.daemon.execute import run_command
from tests.conftest import wait_until
from tests.daemon.daemon_helpers import pid_gone


def run(script: str, limit: int = 30, kill_grace: int = 1, pids: list | None = None):
    async def record(pid: int) -> None:
        if pids is not None:
            pids.append(pid)

    argv = [sys.executable, "-c", textwrap.dedent(script)]
    return asyncio.run(run_command("job", argv, limit, kill_grace, record))


def test_a_huge_line_does_not_stall_the_reading():
    result = run("print('x' * 300_000); print('crawl site a ok: 7 posts stored of 7 seen')")
    assert (result.status, result.exit_code, result.stored) == ("ok", 0, 7)
    assert result.summary == "crawl site a ok: 7 posts stored of 7 seen"


def test_the_failure_line_is_the_summary():
    result = run("""
        import sys
        print('progress'); print('crawl site a failed: no posts found (0 posts stored of 0 seen)',
                                  file=sys.stderr)
        sys.exit(1)""")
    assert (result.status, result.exit_code) == ("failed", 1)
    assert result.summary == "crawl site a failed: no posts found (0 posts stored of 0 seen)"
    other = run("import sys; print('something odd', file=sys.stderr); sys.exit(3)")
    assert other.summary == "job failed (exit status 3): something odd"


def test_a_crawl_that_stored_nothing_failed():
    result = run("print('crawl telegram ok: 0 posts stored of 0 seen, 0 pages')")
    assert (result.status, result.exit_code, result.stored) == ("failed", 0, 0)
    assert result.summary == (
        "job stored nothing: crawl telegram ok: 0 posts stored of 0 seen, 0 pages")


def test_a_job_ignoring_sigterm_is_killed_with_its_children(tmp_path):
    child_pid = tmp_path / "child"
    pids: list[int] = []
    result = run(f"""
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                                  "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
        open({str(child_pid)!r}, "w").write(str(child.pid))
        print("working", flush=True)
        time.sleep(600)""", limit=2, kill_grace=1, pids=pids)
    assert result.status == "timeout"
    assert result.summary == "job killed at its time limit of 2 s; last output: working"
    assert result.exit_code == -9  # SIGTERM was ignored: SIGKILL
    assert pid_gone(pids[0])
    grandchild = int(child_pid.read_text())
    wait_until(lambda: pid_gone(grandchild), 10, "the job's own child to be killed too")
