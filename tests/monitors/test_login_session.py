"""The session file: written atomically with mode 0600 in a 0700 directory, refused when others
can read it, and never shown (repr, errors)."""

from __future__ import annotations

import os
import stat

import pytest
from telethon.crypto import AuthKey
from telethon.sessions import StringSession

from crawler.config import load_config
from monitors.telegram.session import (SessionFileError, SessionSecret, read_session,
                                       session_path, write_session)


def make_session_string() -> str:
    session = StringSession()
    session.set_dc(2, "149.154.167.40", 443)
    session.auth_key = AuthKey(os.urandom(256))
    return session.save()


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "kyran.toml"
    path.write_text("[telegram]\napi_id = 12345\napi_hash = \"0123456789abcdef0123456789abcdef\""
                    "\n[telegram.accounts.main]\n[telegram.accounts.other]\n"
                    "session_file = \"secrets/other.session\"\n", encoding="utf-8")
    return load_config(path, environ={})


def test_write_then_read_back_with_private_modes(config, tmp_path):
    value = make_session_string()
    path = write_session(config, "main", SessionSecret(value))
    assert path == tmp_path / "var" / "telegram" / "main.session"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_session(config, "main").reveal() == value
    assert [p.name for p in path.parent.iterdir()] == ["main.session"]  # no temporary left


def test_configured_path_and_overwrite_is_atomic(config, tmp_path):
    first, second = make_session_string(), make_session_string()
    write_session(config, "other", SessionSecret(first))
    inode = session_path(config, "other").stat().st_ino
    write_session(config, "other", SessionSecret(second))
    path = tmp_path / "secrets" / "other.session"
    assert path.stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert read_session(config, "other").reveal() == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_missing_file_is_no_session(config):
    assert read_session(config, "main") is None


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_file_readable_by_others_is_refused_with_the_fix(config, mode):
    value = make_session_string()
    path = write_session(config, "main", SessionSecret(value))
    path.chmod(mode)
    with pytest.raises(SessionFileError) as caught:
        read_session(config, "main")
    message = str(caught.value)
    assert f"chmod 600 {path}" in message and f"{mode:04o}" in message
    assert value not in message and "\n" not in message


def test_garbage_file_is_refused_without_echoing_it(config):
    path = session_path(config, "main")
    path.parent.mkdir(parents=True)
    secret_looking = "1" + "Zm9vYmFy" * 20
    path.write_text(secret_looking)
    path.chmod(0o600)
    with pytest.raises(SessionFileError) as caught:
        read_session(config, "main")
    assert "kyran telegram login" in str(caught.value)
    assert secret_looking not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_secret_never_shows_itself():
    value = make_session_string()
    secret = SessionSecret(value)
    for shown in (repr(secret), str(secret), f"{secret}", repr([secret]), repr({"s": secret})):
        assert value not in shown and "***" in shown
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(secret)
