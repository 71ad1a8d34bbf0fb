"""The daemon's logs: JSON lines with extra fields, text lines, and secrets masked everywhere a
message, an extra field or a traceback could carry them."""

from __future__ import annotations

import io
import json
import logging

import pytest

from crawler.daemon.logs import setup_logging

TOKEN = "123456789:AAHfy0B2nJ5nQ_kH-9dQsecretsecretsecret"
SESSION = "1BVtsOJIBu" + "x" * 340 + "=="


@pytest.fixture
def restore_root():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_time_level_logger_message_and_extras(restore_root):
    out = io.StringIO()
    setup_logging("INFO", "json", stream=out)
    log = logging.getLogger("kyran.daemon")
    log.info("job %s done", "crawl-site-x", extra={"job": "crawl-site-x", "stored": 12})
    log.debug("not shown at INFO")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "INFO" and entry["logger"] == "kyran.daemon"
    assert entry["message"] == "job crawl-site-x done"
    assert entry["job"] == "crawl-site-x" and entry["stored"] == 12
    assert entry["time"].endswith("+00:00")


def test_a_newline_in_a_message_stays_inside_one_json_line(restore_root):
    out = io.StringIO()
    setup_logging("INFO", "json", stream=out)
    logging.getLogger("x").warning("title\n{\"forged\": true}\u202e")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["message"].startswith("title\n")


def test_text_format(restore_root):
    out = io.StringIO()
    setup_logging("WARNING", "text", stream=out)
    logging.getLogger("kyran.x").warning("careful")
    logging.getLogger("kyran.x").info("quiet")
    assert out.getvalue().count("\n") == 1
    assert "WARNING kyran.x: careful" in out.getvalue()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_never_reach_the_log(restore_root, fmt):
    out = io.StringIO()
    masker = setup_logging("DEBUG", fmt, stream=out)
    masker.add("hunter2-smtp-password")
    log = logging.getLogger("kyran.alerts")
    log.info("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    log.info("session %s loaded", SESSION)
    log.info("smtp login failed", extra={"detail": "pass hunter2-smtp-password refused"})
    log.info("connecting to postgresql://kyran:dbsecret@db/kyran")
    log.info("config", extra={"settings": {"api_hash": "0123456789abcdef0123456789abcdef"}})
    try:
        raise RuntimeError(f"bad token {TOKEN}")
    except RuntimeError:
        log.exception("send failed")
    text = out.getvalue()
    for secret in (TOKEN, SESSION[:60], "hunter2-smtp-password", "dbsecret",
                   "0123456789abcdef0123456789abcdef"):
        assert secret not in text
    assert text.count("***") >= (6 if fmt == "json" else 4)
    assert "send failed" in text and "RuntimeError" in text


def test_unknown_format_is_refused(restore_root):
    with pytest.raises(ValueError, match="expected text or json"):
        setup_logging("INFO", "xml")
