"""Alerts for new high-priority candidates, pushed to a webhook, an SMTP server (aiosmtpd) and
the Telegram Bot API, all local servers on port 0, on SQLite and PostgreSQL: each candidate
announced once per channel, scraped text made safe for each channel, the hourly rate limit with
held candidates summed up, failed sends recorded and retried, unfit secret files refused."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from email import message_from_bytes

import pytest
from sqlalchemy import select

from crawler.config import load_config
from crawler.daemon.alert_channels import SecretFileError
from crawler.daemon.alerts import Alerter
from crawler.store.models_ops import AlertSent
from tests.conftest import write_config
from tests.daemon.ops_helpers import NOW, add_candidate, add_post, add_source
from tests.daemon.receivers import HttpReceiver, SmtpReceiver

TOKEN = "987654321:AAE-secret-token-value-for-tests_only"
PASSWORD = "smtp-pass-Zq9!"


class Clock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


def secret(path, value, mode=0o600):
    path.write_text(value + "\n")
    path.chmod(mode)
    return path


def alerts_config(tmp_path, db_url, webhook=None, bot=None, smtp=None, max_per_hour=20,
                  extra=""):
    text = f'\n[alerts]\nmin_priority = 80\nmax_per_hour = {max_per_hour}\ncheck_interval = 5\n'
    text += 'review_url = "https://review.example.org/"\n'
    if webhook:
        text += f'webhook_url = "{webhook.url}/hook"\n'
    if bot:
        text += (f'[alerts.telegram_bot]\ntoken_file = "bot-token"\nchat_id = 4242\n'
                 f'api_url = "{bot.url}"\n')
        if not (tmp_path / "bot-token").exists():
            secret(tmp_path / "bot-token", TOKEN)
    if smtp:
        text += (f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nstarttls = false\n'
                 'sender = "kyran@example.org"\nrecipients = ["analysts@example.org"]\n')
        if smtp_password := getattr(smtp, "password", None):
            text += 'username = "kyran"\npassword_file = "smtp-password"\n'
            secret(tmp_path / "smtp-password", smtp_password)
    return load_config(write_config(tmp_path / "kyran.toml", db_url, text + extra))


@pytest.fixture
def receivers():
    opened = []

    def make(kind, **kwargs):
        receiver = HttpReceiver(**kwargs) if kind == "http" else SmtpReceiver(**kwargs)
        opened.append(receiver)
        return receiver

    yield make
    for receiver in opened:
        receiver.close()


def rows(store, channel=None):
    with store.session() as session:
        query = select(AlertSent).order_by(AlertSent.candidate_id, AlertSent.channel)
        if channel:
            query = query.where(AlertSent.channel == channel)
        return [(r.candidate_id, r.channel, r.status, r.attempts, r.error)
                for r in session.scalars(query)]


def test_a_new_candidate_reaches_every_channel_once(tmp_path, db_url, store, receivers):
    hook, bot = receivers("http"), receivers("http")
    smtp = receivers("smtp", password=PASSWORD)
    smtp.password = PASSWORD
    with store.session() as session:
        shop = add_source(session, "kristall_shop",
                          title="<b>Кристалл</b> https://shop.kz/buy \x1b[31m")
        wanted = add_candidate(session, "source", shop.id, priority=91, reasons=[
            {"rule": "substance+delivery", "contribution": 0.8,
             "words": ["<i>закладки</i>", "t.me/kristall_bot"]}]).id
        post = add_post(session, shop, "7")
        add_candidate(session, "post", post.id, priority=50)  # below min_priority
        other = add_source(session, "dismissed_one")
        add_candidate(session, "source", other.id, priority=99, status="dismissed")
    alerter = Alerter(alerts_config(tmp_path, db_url, hook, bot, smtp), store, clock=Clock())
    report = asyncio.run(alerter.run_once())
    assert report == {name: {"sent": 1, "held": 0, "failed": 0, "summarised": 0}
                      for name in ("webhook", "email", "telegram")}

    [(path, document)] = hook.requests
    assert path == "/hook" and document["candidate_id"] == wanted
    assert document["priority"] == 91 and document["category"] == "sale"
    assert "shop[.]kz" in document["subject"] and "https://shop.kz" not in document["subject"]
    assert "\x1b" not in document["text"]
    assert document["review"] == f"https://review.example.org/candidates/{wanted}"
    assert "t[.]me/kristall_bot" in document["reasons"][0]

    [(path, message)] = bot.requests
    assert path == f"/bot{TOKEN}/sendMessage"
    assert message["chat_id"] == 4242 and message["parse_mode"] == "HTML"
    assert message["text"].startswith(f"<b>Kyran: new sale candidate #{wanted}")
    assert "&lt;b&gt;Кристалл&lt;/b&gt;" in message["text"] and "<i>" not in message["text"]
    assert "<b>Кристалл" not in message["text"]

    [envelope] = smtp.messages
    assert smtp.logins == [("kyran", PASSWORD)]
    assert envelope.rcpt_tos == ["analysts@example.org"]
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == f"Kyran: new sale candidate #{wanted}, priority 91"
    assert mail["Date"] and mail["Message-ID"].endswith("@example.org>")
    body = mail.get_payload(decode=True).decode()
    assert "Кристалл" in body and "shop[.]kz" in body and "https://shop.kz" not in body

    assert asyncio.run(alerter.run_once())["webhook"]["sent"] == 0  # announced once
    assert len(hook.requests) == len(bot.requests) == len(smtp.messages) == 1
    assert [r[2] for r in rows(store)] == ["sent"] * 3


def test_rate_limit_holds_the_rest_and_sums_them_up(tmp_path, db_url, store, receivers):
    hook = receivers("http")
    with store.session() as session:
        ids = [add_candidate(session, "source", add_source(session, f"shop{i}").id,
                             priority=99 - i).id for i in range(5)]
    clock = Clock()
    alerter = Alerter(alerts_config(tmp_path, db_url, webhook=hook, max_per_hour=2), store,
                      clock=clock)
    report = asyncio.run(alerter.run_once())
    assert report["webhook"] == {"sent": 2, "held": 3, "failed": 0, "summarised": 3}
    first, second = (document for _, document in hook.requests)
    assert (first["candidate_id"], first["held"]) == (ids[0], [])
    assert second["candidate_id"] == ids[1]
    assert [h["candidate_id"] for h in second["held"]] == ids[2:]
    assert "And 3 more held over the rate limit" in second["text"]
    assert [r[2] for r in rows(store)] == ["sent", "sent", "summarised", "summarised",
                                          "summarised"]

    with store.session() as session:  # more in the same hour: held, nothing sent
        late = [add_candidate(session, "source", add_source(session, f"late{i}").id,
                              priority=85).id for i in range(2)]
    clock.now += timedelta(minutes=30)
    assert asyncio.run(alerter.run_once())["webhook"] == {"sent": 0, "held": 2, "failed": 0,
                                                          "summarised": 0}
    assert len(hook.requests) == 2

    clock.now += timedelta(minutes=31)  # the hour is over: the held ones go out as a summary
    assert asyncio.run(alerter.run_once())["webhook"]["summarised"] == 2
    summary = hook.requests[-1][1]
    assert summary["kind"] == "kyran.held" and summary["candidate_id"] is None
    assert sorted(h["candidate_id"] for h in summary["held"]) == late
    assert asyncio.run(alerter.run_once())["webhook"] == {"sent": 0, "held": 0, "failed": 0,
                                                          "summarised": 0}
    assert len(hook.requests) == 3


def test_a_failed_send_is_recorded_and_retried(tmp_path, db_url, store, receivers, caplog):
    hook = receivers("http", status=500, reply={"error": "down"})
    bot = receivers("http", status=400, reply={"ok": False,
                                                "description": "Bad Request: chat not found"})
    with store.session() as session:
        wanted = add_candidate(session, "source", add_source(session, "shop").id).id
    clock = Clock()
    alerter = Alerter(alerts_config(tmp_path, db_url, webhook=hook, bot=bot), store,
                      clock=clock)
    with caplog.at_level(logging.DEBUG):
        report = asyncio.run(alerter.run_once())
    assert report["webhook"]["failed"] == report["telegram"]["failed"] == 1
    assert rows(store) == [
        (wanted, "telegram", "failed", 1, "Bot API answered HTTP 400: Bad Request: chat not found"),
        (wanted, "webhook", "failed", 1, "webhook answered HTTP 500")]
    assert TOKEN not in caplog.text and "chat not found" in caplog.text

    asyncio.run(alerter.run_once())  # too soon: backing off
    assert len(hook.requests) == 1
    hook.status = 200
    bot.status, bot.reply = 200, {"ok": True, "result": {}}
    clock.now += timedelta(seconds=6)
    asyncio.run(alerter.run_once())
    assert rows(store) == [(wanted, "telegram", "sent", 2, None),
                           (wanted, "webhook", "sent", 2, None)]


def test_unreachable_and_refusing_servers_fail_in_one_line(tmp_path, db_url, store, receivers):
    hook, smtp = receivers("http"), receivers("smtp")
    smtp.reject = True
    with store.session() as session:
        add_candidate(session, "source", add_source(session, "shop").id)
    config = alerts_config(tmp_path, db_url, webhook=hook, smtp=smtp)
    hook.close()  # nothing listens there any more
    report = asyncio.run(Alerter(config, store, clock=Clock()).run_once())
    assert report["webhook"]["failed"] == report["email"]["failed"] == 1
    errors = {channel: error for _, channel, _, _, error in rows(store)}
    assert errors["webhook"].startswith("webhook unreachable")
    assert errors["email"] == f"SMTP 127.0.0.1:{smtp.port} answered 554 5.7.1 rejected by policy"
    assert all("\n" not in error for error in errors.values())


@pytest.mark.parametrize("mode,expected", [(0o644, "can be read by others (mode 0644): run "
                                                   "chmod 600"), (None, "no such file")])
def test_unfit_secret_files_are_refused_in_one_line(tmp_path, db_url, store, receivers, mode,
                                                    expected):
    bot = receivers("http")
    token = tmp_path / "bot-token"
    if mode is not None:
        secret(token, TOKEN, mode)
    else:
        token.unlink(missing_ok=True)
        secret(token, TOKEN)
        config = alerts_config(tmp_path, db_url, bot=bot)
        token.unlink()
    if mode is not None:
        config = alerts_config(tmp_path, db_url, bot=bot)
    with pytest.raises(SecretFileError) as caught:
        Alerter(config, store)
    message = str(caught.value)
    assert message.startswith(f"alerts.telegram_bot.token_file: {token}")
    assert expected in message and "\n" not in message and TOKEN not in message


def test_run_keeps_looking_until_stopped(tmp_path, db_url, store, receivers):
    hook = receivers("http")
    alerter = Alerter(alerts_config(tmp_path, db_url, webhook=hook), store)
    alerter.alerts.check_interval = 1

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(alerter.run(stop))
        await asyncio.sleep(0)  # the first look finds nothing
        with store.session() as session:
            add_candidate(session, "source", add_source(session, "shop").id)
        for _ in range(300):  # bounded wait for the condition
            if hook.requests:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    assert len(hook.requests) == 1


def test_a_channel_that_breaks_never_stops_the_others(tmp_path, db_url, store, receivers):
    from crawler.daemon.alert_channels import WebhookChannel

    class Broken:
        name = "broken"

        def send(self, alert):
            raise RuntimeError("bug\nin a channel")

    hook = receivers("http")
    with store.session() as session:
        wanted = add_candidate(session, "source", add_source(session, "shop").id).id
    alerter = Alerter(alerts_config(tmp_path, db_url), store, clock=Clock(),
                      channels=[Broken(), WebhookChannel(f"{hook.url}/hook")])
    report = asyncio.run(alerter.run_once())
    assert report["broken"]["failed"] == 1 and report["webhook"]["sent"] == 1
    assert rows(store, "broken") == [(wanted, "broken", "failed", 1,
                                      "RuntimeError: bug in a channel")]


def test_the_bot_token_never_appears_in_an_error(tmp_path, db_url, store, receivers):
    """http.client quotes the URL (and so the token) when it refuses one: the error is cleaned."""
    bot = receivers("http")
    config = alerts_config(tmp_path, db_url, bot=bot)
    odd = "123456:ABC\x01defghijklmnopqrstuvwxyz0123456789"
    secret(tmp_path / "bot-token", odd)
    with store.session() as session:
        add_candidate(session, "source", add_source(session, "shop").id)
    alerter = Alerter(config, store, clock=Clock())
    assert alerter.secrets() == [odd]
    asyncio.run(alerter.run_once())
    [(_, _, status, _, error)] = rows(store)
    assert status == "failed" and error == "Bot API unreachable: InvalidURL (check the URL and the token)"
    assert odd not in error and "ABC" not in error


def test_a_secret_in_a_channels_own_error_is_masked(tmp_path, db_url, store):
    class Leaky:
        name, secret = "leaky", "tok-\x01-secret"

        def send(self, alert):
            raise RuntimeError(f"failed at {self.secret!r} and {self.secret}")

    with store.session() as session:
        add_candidate(session, "source", add_source(session, "shop").id)
    alerter = Alerter(alerts_config(tmp_path, db_url), store, clock=Clock(), channels=[Leaky()])
    asyncio.run(alerter.run_once())
    [(_, _, _, _, error)] = rows(store)
    assert "secret" not in error and error == "RuntimeError: failed at '***' and ***"


def test_without_channels_run_only_waits_for_stop(tmp_path, db_url, store):
    alerter = Alerter(alerts_config(tmp_path, db_url), store)
    assert alerter.channels == [] and alerter.secrets() == []

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(alerter.run(stop))
        await asyncio.sleep(0)
        assert not task.done()
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(main())


def test_starttls_checks_the_servers_certificate(tmp_path, db_url, store, receivers):
    """An SMTP server whose certificate nobody vouches for gets no alert: TLS is verified."""
    from tests.daemon.receivers import self_signed_context

    smtp = receivers("smtp", tls_context=self_signed_context(tmp_path))
    with store.session() as session:
        add_candidate(session, "source", add_source(session, "shop").id)
    config = alerts_config(tmp_path, db_url, smtp=smtp)
    config.alerts.smtp.starttls = True
    report = asyncio.run(Alerter(config, store, clock=Clock()).run_once())
    assert report["email"]["failed"] == 1 and smtp.messages == []
    [(_, _, _, _, error)] = rows(store)
    assert error.startswith(f"SMTP 127.0.0.1:{smtp.port}: ") and "CERTIFICATE_VERIFY_FAILED" \
        in error


def test_a_refused_smtp_login_names_no_password(tmp_path, db_url, store, receivers, caplog):
    smtp = receivers("smtp", password="the-right-one")
    smtp.password = PASSWORD  # what the file holds: not what the server wants
    with store.session() as session:
        add_candidate(session, "source", add_source(session, "shop").id)
    with caplog.at_level(logging.DEBUG):
        report = asyncio.run(Alerter(alerts_config(tmp_path, db_url, smtp=smtp), store,
                                     clock=Clock()).run_once())
    assert report["email"]["failed"] == 1 and smtp.messages == []
    [(_, _, _, _, error)] = rows(store)
    assert error.startswith(f"SMTP 127.0.0.1:{smtp.port} answered 535")
    assert smtp.logins and set(smtp.logins) == {("kyran", PASSWORD)}  # PLAIN, then LOGIN
    assert PASSWORD not in error + caplog.text
