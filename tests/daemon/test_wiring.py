"""What `kyran run` starts besides its jobs follows the configuration: the health endpoint, the
Telegram monitor (an enabled account) and the alerter (a channel); an unfit secret file is one
configuration line; the liveness job resolves through the running monitor."""

import asyncio

import pytest

from crawler.config import ConfigError, load_config
from crawler.daemon import builtin
from monitors.telegram.service import TelegramService
from tests.conftest import write_config

TELEGRAM = ('[telegram]\napi_id = 1\napi_hash = "0123456789abcdef0123456789abcdef"\n'
            "[telegram.accounts.main]\n[telegram.accounts.spare]\nenabled = false\n")


def configure(tmp_path, db_url, extra):
    return load_config(write_config(tmp_path / "kyran.toml", db_url, extra), environ={})


def test_services_follow_the_configuration(tmp_path, store, db_url):
    bare = configure(tmp_path, db_url, '[daemon]\nhealth_listen = ""\n')
    assert builtin.make_services(bare, store) == {}
    full = configure(tmp_path, db_url, TELEGRAM + '[alerts]\nwebhook_url = "http://127.0.0.1:9/"\n')
    services = builtin.make_services(full, store)
    assert sorted(services) == ["alerts", "health", "telegram"]
    assert services["telegram"].accounts() == ["main"]  # the disabled one is not run


def test_an_unfit_bot_token_file_is_one_configuration_line(tmp_path, store, db_url):
    token = tmp_path / "bot-token"
    token.write_text("123:secret-token\n")
    token.chmod(0o644)
    config = configure(tmp_path, db_url, f'[alerts.telegram_bot]\ntoken_file = "{token}"\n'
                                         "chat_id = 5\n")
    with pytest.raises(ConfigError) as caught:
        builtin.make_services(config, store)
    message = str(caught.value)
    assert message.startswith("alerts: ") and "\n" not in message
    assert str(token) in message and "secret-token" not in message


def test_liveness_resolves_through_the_running_monitor(tmp_path, store, db_url, monkeypatch):
    config = configure(tmp_path, db_url, TELEGRAM)
    service = TelegramService(config, store)
    handed = []

    async def check_subjects(config, store, resolver=None):
        handed.append(resolver)
        return {"checked": 3, "up": 1, "gone": 1, "unknown": 1, "failed": len(handed) - 1}

    monkeypatch.setattr("monitors.liveness.check_subjects", check_subjects)
    first = asyncio.run(builtin.liveness_job(config, store, {}))
    asyncio.run(builtin.liveness_job(config, store, {"telegram": service}))  # not running yet
    service.monitor = type("Running", (), {"resolver": lambda self: "the monitor's"})()
    last = asyncio.run(builtin.liveness_job(config, store, {"telegram": service}))
    assert handed == [None, None, "the monitor's"]
    assert first["ok"] and first["summary"] == (
        "liveness ok: 3 subjects checked: 1 up, 1 gone (0 newly, 0 came back), 1 unknown, "
        "0 skipped")
    assert not last["ok"]  # checks that failed on the network: the run failed, retried later
    assert last["summary"].endswith("; 2 checks failed (network), retried")
