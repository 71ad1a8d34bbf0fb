"""`kyran liveness`: a line per subject that changed, a summary, JSON on request, and exit 1 when
a check failed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from crawler.cli import cli
from crawler.defang import json_line
from crawler.liveness_cli import change_line
from crawler.store.db import open_store
from tests.conftest import run_kyran, write_config
from tests.monitors.liveness_world import BadServer, World, add_entity, add_source


def invoke(config, *args):
    return CliRunner().invoke(cli, ["--config", str(config), "liveness", *args])


def test_changes_and_summary(tmp_path, db_url):
    with World() as world:
        config = write_config(tmp_path / "kyran.toml", db_url,
                              f'[telegram_preview]\nbase_url = "{world.url}"\n')
        store = open_store(db_url)
        with store.session() as session:
            up = add_source(session, "shop_up")
            hidden = add_source(session, "shop_hidden")
            add_entity(session, "telegram_bot", "@some_shop_bot")
        store.dispose()
        first = invoke(config)
        assert first.exit_code == 0, first.output
        assert first.stdout == ("liveness: 3 subjects, 2 checked: 2 up, 0 gone, 0 unknown, "
                                "1 skipped (no check applies); 0 went gone, 0 came back\n")
        world.tme.set_preview("shop_hidden", "none")
        second = invoke(config)
        assert second.exit_code == 0, second.output
        lines = second.stdout.splitlines()
        assert lines[0].startswith(f"gone  source {hidden.id} @shop_hidden (redirect) since 20")
        assert lines[1].endswith("1 gone, 0 unknown, 1 skipped (no check applies); 1 went gone, "
                                 "0 came back")
        world.tme.set_preview("shop_hidden", "public")
        third = invoke(config, "--json")
        record = json.loads(third.stdout)
        assert (record["up"], record["came_back"]) == (2, 1)
        assert record["changes"][0]["subject_id"] == hidden.id
        assert record["changes"][0]["to"] == "up" and up.id != hidden.id


def test_failed_checks_exit_1_with_the_summary_on_stderr(tmp_path, db_url):
    with BadServer("close") as bad:
        config = write_config(tmp_path / "kyran.toml", db_url,
                              f'[telegram_preview]\nbase_url = "{bad.url}"\n'
                              "[liveness]\ntimeout = 2\n")
        store = open_store(db_url)
        with store.session() as session:
            add_source(session, "shop_up")
        store.dispose()
        result = run_kyran("liveness", config=config, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == ("liveness: 1 subjects, 1 checked: 0 up, 0 gone, 1 unknown "
                             "(1 failed), 0 skipped (no check applies); 0 went gone, "
                             "0 came back\n")


def test_a_hostile_target_is_shown_safely():
    change = {"subject_type": "entity", "subject_id": 3, "to": "gone", "how": "dns",
              "target": "https://shop.example/\u202e\x1b[2J\nforged line",
              "first_gone_at": "2026-11-01T09:00:00+00:00"}
    line = change_line(change)
    assert "\x1b" not in line and "\u202e" not in line and "\n" not in line
    assert line.startswith("gone  entity 3 hxxps://shop[.]example/")
    assert json_line(change).count("\n") == 0 and "\\u001b" in json_line(change)
