"""The command line: every command explains itself, and the demo runs end to end."""

import json
import os
import shlex
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import REPO, run_kyran

COMMANDS = [[], ["db"], ["db", "upgrade"], ["db", "current"], ["crawl"], ["crawl", "telegram"],
            ["crawl", "site"], ["sources"], ["posts"], ["capture"], ["demo"], ["eval"],
            ["train"], ["queue"], ["candidate"], ["entity"], ["watchlist"], ["watchlist", "add"],
            ["watchlist", "remove"], ["watchlist", "priority"], ["rescore"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "kyran")
def test_every_command_has_help(kyran, command):
    result = kyran(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    summary = result.stdout.split("\n\n")[1].strip()
    assert len(summary) > 20, f"`kyran {' '.join(command)} --help` says too little"


def test_db_upgrade_then_current(kyran, config_file):
    from crawler.store.db import alembic_config
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    result = kyran("db", "upgrade", config=config_file)
    assert result.returncode == 0, result.stderr
    assert f"store at revision {head} (was empty)" in result.stdout
    current = kyran("db", "current", config=config_file)
    assert current.stdout.strip() == f"current {head}, head {head}"


def test_unknown_site_target_is_a_usage_error(kyran, config_file):
    result = kyran("crawl", "site", "nowhere", config=config_file)
    assert result.returncode == 2
    assert "no site target 'nowhere' (known: none configured)" in result.stderr


def test_bad_since_and_unknown_source(kyran, config_file, store):
    bad = kyran("posts", "--since", "last tuesday", config=config_file)
    assert bad.returncode == 2 and "expected a date" in bad.stderr
    missing = kyran("posts", "--source", "nobody_here", config=config_file)
    assert missing.returncode == 2 and "no source 'nobody_here'" in missing.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo run once, in a folder whose name needs quoting in a shell: (home, output)."""
    home = tmp_path_factory.mktemp("demo") / "demo home's"
    result = run_kyran("demo", "--home", str(home), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return home, result.stdout


def test_demo_crawls_the_fixture_site(kyran, demo):
    home, output = demo
    config = home / "kyran.toml"
    sources = [json.loads(line) for line in
               kyran("sources", "--json", config=config).stdout.splitlines()]
    by_handle = {s["handle"]: s for s in sources}
    assert by_handle["kristall_demo_shop"]["posts"] == 12
    assert by_handle["bazar"]["posts"] == 45 and by_handle["bazar"]["status"] == "active"
    assert {s["status"] for s in sources} >= {"active", "empty", "no_preview"}
    shown = kyran("capture", "1", config=config)
    assert shown.returncode == 0 and "(verified)" in shown.stdout
    queue = [json.loads(line) for line in
             kyran("queue", "--json", config=config).stdout.splitlines()]
    subjects = {(c["subject_type"], c["category"]) for c in queue}
    assert ("source", "sale") in subjects and ("source", "recruitment") in subjects
    assert ("post", "sale") in subjects  # a single shop ad on the classifieds site
    assert "candidate #1" in output  # the demo shows the top candidate


def test_every_explore_hint_of_the_demo_runs_as_pasted(demo):
    home, output = demo
    hints = output.split("Explore")[1].splitlines()[1:]
    assert len(hints) == 4 and all(hint.strip().startswith("kyran ") for hint in hints)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for hint in hints:  # pasted into a shell whose PATH has the installed `kyran`
        assert shlex.split(hint)[2] == str(home / "kyran.toml")
        result = subprocess.run(["bash", "-c", hint], capture_output=True, text=True,
                                timeout=120, cwd=REPO, env={**os.environ, "PATH": path})
        assert result.returncode == 0, (hint, result.stderr)
        assert result.stdout.strip(), hint


def test_version(kyran):
    result = kyran("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"kyran {version('kyran')}"


@pytest.mark.parametrize("command", [["sources", "--status", "activ"],
                                     ["queue", "--status", "opne"],
                                     ["queue", "--category", "sales"],
                                     ["sources", "--platform", "tg"]], ids=" ".join)
def test_a_filter_with_fixed_values_refuses_others(kyran, config_file, store, command):
    result = kyran(*command, config=config_file)
    assert result.returncode == 2
    assert "is not one of" in result.stderr and "Traceback" not in result.stderr


def test_demo_refuses_a_folder_it_did_not_make(kyran, tmp_path):
    home = tmp_path / "var"
    (home / "captures").mkdir(parents=True)
    (home / "kyran.sqlite").write_bytes(b"real evidence")
    result = kyran("demo", "--home", str(home))
    assert result.returncode == 1
    assert "is not empty and was not made by `kyran demo`" in result.stderr
    assert (home / "kyran.sqlite").read_bytes() == b"real evidence"
