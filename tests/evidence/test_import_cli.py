"""The exchange as two organisations' users run it: A exports and shows its public key, B trusts
it (`kyran keys trust`), verifies and imports (`kyran import --from a`); a re-import says it
changed nothing; a tampered package is refused with one line per problem and exit 1."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from crawler.store.models import Candidate
from tests.conftest import run_kyran
from tests.evidence.exchange_world import instance, seed_confirmed
from tests.evidence.package_maker import members_of, rewrite


def test_export_trust_verify_import_as_users_do(tmp_path):
    """On SQLite: the stores' work is tested on both backends in test_import.py."""
    with instance(tmp_path, "sqlite", "a") as a, instance(tmp_path, "sqlite", "b") as b:
        run_exchange(a, b, tmp_path)


def run_exchange(a, b, tmp_path) -> None:
    candidate = seed_confirmed(a)
    exported = run_kyran("export", str(candidate), "--recipient", "generic", "--plain",
                         "--as", "lead_a", config=a.config_file)
    assert exported.returncode == 0, exported.stderr
    package = exported.stdout.split(":")[0]
    shown = run_kyran("keys", "show", "--pem", config=a.config_file)
    key_file = tmp_path / "a.pub"
    key_file.write_text(shown.stdout)

    refused = run_kyran("import", package, "--from", "a", config=b.config_file)
    assert refused.returncode == 1
    assert "no key is trusted for organisation 'a'" in refused.stderr
    assert refused.stderr.splitlines()[-1].endswith("REFUSED, nothing imported")

    assert run_kyran("keys", "trust", "a", str(key_file), config=b.config_file).returncode == 0
    assert run_kyran("verify", package, "--key", str(key_file)).returncode == 0
    done = run_kyran("import", package, "--from", "a", config=b.config_file)
    assert done.returncode == 0, done.stderr
    assert re.match(r"imported package [0-9a-f-]{36} from a: 1 new candidates \(0 already "
                    r"held\), 3 new posts", done.stdout)
    again = run_kyran("import", package, "--from", "a", config=b.config_file)
    assert again.returncode == 0 and "was imported before: nothing changed" in again.stdout

    members = members_of(package)
    members["urls.txt"] += b"https://example.org/innocent\n"
    members["../../evil"] = b"x"
    tampered = rewrite(package, members, tmp_path / "tampered.zip")
    bad = run_kyran("import", str(tampered), "--from", "a", config=b.config_file)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    lines = bad.stderr.splitlines()
    assert any("urls.txt has" in line for line in lines)
    assert any("'..' segment" in line for line in lines)
    with b.store.reader() as session:
        assert session.scalar(select(func.count()).select_from(Candidate)) == 1
