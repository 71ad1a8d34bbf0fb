"""`kyran user …` and `kyran serve`, run as a user would (subprocesses)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import httpx
from sqlalchemy import select

from crawler.store.models import Event, User
from crawler.store.models_ops import ApiToken
from review.auth import token_digest
from tests.conftest import REPO, run_kyran


def test_user_add_list_token_revoke_disable(review_config_file, store):
    added = subprocess.run(
        [sys.executable, "-m", "crawler", "--config", str(review_config_file), "user", "add",
         "zoe", "--role", "lead", "--display-name", "Owl", "--password-stdin"],
        input="zoe-password-123\n", capture_output=True, text=True, cwd=REPO, timeout=60)
    assert added.returncode == 0, added.stderr
    assert "zoe-password-123" not in added.stdout + added.stderr
    again = run_kyran("user", "add", "zoe", "--role", "lead", "--password-stdin",
                      config=review_config_file)
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    listed = run_kyran("user", "list", config=review_config_file)
    assert re.search(r"zoe\s+lead\s+active\s+last login never\s+Owl", listed.stdout)
    made = run_kyran("user", "token", "zoe", "--name", "ci robot", config=review_config_file)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("kyr_") and len(token) > 40
    with store.reader() as session:
        row = session.scalar(select(ApiToken))
        assert row.token_sha256 == token_digest(token) and row.name == "ci robot"
        user = session.scalar(select(User).where(User.username == "zoe"))
        assert user.password_hash.startswith("$argon2id$")
    revoked = run_kyran("user", "revoke-token", str(row.id), config=review_config_file)
    assert revoked.returncode == 0, revoked.stderr
    missing = run_kyran("user", "revoke-token", "999", config=review_config_file)
    assert missing.returncode == 2 and "no token 999" in missing.stderr
    disabled = run_kyran("user", "disable", "zoe", config=review_config_file)
    assert disabled.returncode == 0
    with store.reader() as session:
        actions = [e.action for e in session.scalars(select(Event).order_by(Event.id))]
        assert session.scalar(select(User.active).where(User.username == "zoe")) is False
    assert actions == ["user.add", "token.create", "token.revoke", "user.disable"]


def test_bad_usernames_and_short_passwords_are_one_line(review_config_file):
    for name, password in (("Bad Name", "long-enough-pw"), ("ok", "short")):
        result = subprocess.run(
            [sys.executable, "-m", "crawler", "--config", str(review_config_file), "user",
             "add", name, "--role", "analyst", "--password-stdin"],
            input=password + "\n", capture_output=True, text=True, cwd=REPO, timeout=60)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
    huge = run_kyran("user", "revoke-token", "99999999999", config=review_config_file)
    assert huge.returncode == 2 and "Traceback" not in huge.stderr


def _start_serve(config, *extra):
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(config), "serve", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = process.stderr.readline()  # blocks until serve says where it listens (or dies)
    return process, line


def test_serve_on_port_zero_reports_its_address_and_answers(review_config_file, users):
    process, line = _start_serve(review_config_file, "--listen", "127.0.0.1:0")
    try:
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line + process.stderr.read() if process.poll() is not None else line
        base = match.group(1)
        health = httpx.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert "default-src 'self'" in health.headers["content-security-policy"]
        page = httpx.get(f"{base}/account", timeout=10)
        assert page.status_code == 401
        with httpx.Client(base_url=base, timeout=10) as client:
            form = client.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form).group(1)
            done = client.post("/login", data={"username": "anna", "password":
                               users["analyst"].password, "csrf_token": csrf})
            assert done.status_code == 303
            assert client.get("/account").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_on_an_address_in_use_says_so_and_exits_1(review_config_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_kyran("serve", "--listen", f"127.0.0.1:{port}", config=review_config_file,
                           timeout=60)
    assert result.returncode == 1
    assert result.stderr == f"kyran: cannot listen on 127.0.0.1:{port}: address in use\n"


def test_serve_refuses_a_key_file_others_can_read(review_config_file, review_config):
    key = review_config.resolve(review_config.review.secret_key_file)
    key.write_text("x" * 64)
    key.chmod(0o644)
    result = run_kyran("serve", "--listen", "127.0.0.1:0", config=review_config_file)
    assert result.returncode == 2
    assert "chmod 600" in result.stderr and result.stderr.count("\n") == 1
