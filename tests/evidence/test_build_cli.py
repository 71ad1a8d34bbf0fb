"""`kyran export` and `kyran keys` as a user runs them: outputs, files, and every mistake one line
with a non-zero exit status, never a traceback."""

from __future__ import annotations

import stat

import pytest

from evidence import keys
from tests.evidence.build_world import make_world


@pytest.fixture
def world(tmp_path, db_url, store):
    return make_world(tmp_path, db_url, store)


def one_line_error(result):
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def usage_error(result, says: str) -> None:
    """Click's usage errors: exit 2, the usage lines, then one Error line."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and says in errors[0], result.stderr


def test_export_writes_a_package_and_refuses_mistakes_in_one_line(world, kyran):
    config = world.config_file
    err = one_line_error(kyran("export", str(world.open_id), "--recipient", "telegram",
                               "--as", world.lead, config=config))
    assert f"#{world.open_id}: is open, not confirmed" in err
    err = one_line_error(kyran("export", "--all-confirmed", "--recipient", "telegram",
                               "--as", world.analyst, config=config))
    assert "needs the lead role" in err
    err = one_line_error(kyran("export", "--all-confirmed", "--recipient", "telegram",
                               "--as", "nobody\u202e", config=config))
    assert "no user" in err and "\u202e" not in err
    usage_error(kyran("export", "--recipient", "mars", "--as", world.lead, config=config),
                "'mars' is not one of")
    usage_error(kyran("export", "--since", "yesterday", "--recipient", "generic",
                      "--as", world.lead, config=config), "expected a date")
    out = world.config.home / "out"
    done = kyran("export", "--all-confirmed", "--recipient", "regulator", "--as", world.lead,
                 "--out", str(out), "--plain", config=config)
    assert done.returncode == 0, done.stderr
    assert "2 subjects, 10 posts, 2 captures missing" in done.stdout
    assert len(list(out.glob("kyran-*.zip"))) == 1
    err = one_line_error(kyran("export", "--all-confirmed", "--recipient", "telegram",
                               "--as", world.lead, config=config))
    assert "no candidate matches" in err


def test_keys_generate_show_trust_list(world, kyran, tmp_path):
    config = world.config_file
    key_path = world.config.resolve(world.config.evidence.signing_key_file)
    err = one_line_error(kyran("keys", "generate", config=config))
    assert "already exists" in err
    before = keys.fingerprint(keys.load_private_key(key_path))
    done = kyran("keys", "generate", "--force", config=config)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    after = keys.fingerprint(keys.load_private_key(key_path))
    assert after != before and after in done.stdout
    shown = kyran("keys", "show", config=config)
    assert after in shown.stdout and "-----BEGIN" not in shown.stdout
    pem = kyran("keys", "show", "--pem", config=config).stdout
    partner = tmp_path / "partner.pem"
    partner.write_text(pem)
    done = kyran("keys", "trust", "police-unit", str(partner), config=config)
    assert done.returncode == 0, done.stderr
    listed = kyran("keys", "list", config=config)
    assert listed.stdout.split() == ["police-unit", after]
    err = one_line_error(kyran("keys", "trust", "../evil", str(partner), config=config))
    assert "organisation id" in err
    err = one_line_error(kyran("keys", "trust", "ngo", str(key_path), config=config))
    assert "this is a private key" in err
    junk = tmp_path / "junk.pub"
    junk.write_bytes(b"\x00\xff" * 10)
    err = one_line_error(kyran("keys", "trust", "ngo", str(junk), config=config))
    assert "not an Ed25519 public key" in err
    key_path.unlink()
    err = one_line_error(kyran("keys", "show", config=config))
    assert "kyran keys generate" in err
    err = one_line_error(kyran("export", "--all-confirmed", "--recipient", "generic", "--as",
                               world.lead, config=config))
    assert "kyran keys generate" in err
