"""The store's password (in store.url) never reaches the daemon's log, its refusal of a second
daemon, nor `kyran jobs`."""

import signal

from tests.conftest import POSTGRES, postgres_schema, run_kyran, wait_until
from tests.daemon.daemon_helpers import Daemon, daemon_config

PASSWORD = "s3cret-pw-7f1c"


def test_the_store_password_is_never_shown(tmp_path):
    with postgres_schema() as schema:
        # The test server trusts local connections: the password is carried, never checked.
        db_url = (POSTGRES.replace("://", f"://root:{PASSWORD}@", 1)
                  + f"?options=-csearch_path%3D{schema}")
        config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=(
            'log_level = "DEBUG"\n[daemon.jobs.bad]\nschedule = "1h"\n'
            'call = "tests.daemon.sample_jobs:always_fails"\n'))
        daemon = Daemon(config)
        try:
            wait_until(lambda: "bad: failed" in daemon.log(), 60, "the job's failure")
            second = run_kyran("run", "--once", config=config)
            assert second.returncode == 1 and "another kyran daemon" in second.stderr
            listing = run_kyran("jobs", config=config)
            assert listing.returncode == 0, listing.stderr
        finally:
            daemon.process.send_signal(signal.SIGTERM)
            assert daemon.wait() == 0, daemon.log()[-3000:]
        assert "root:***@" in second.stderr
        for output in (daemon.log(), second.stdout, second.stderr, listing.stdout,
                       listing.stderr):
            assert PASSWORD not in output
