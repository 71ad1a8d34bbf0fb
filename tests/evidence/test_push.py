"""Pushing a package to a partner: `POST /api/packages` on the review app (token of a lead or
admin, trusted sender, capped upload) and `kyran push` between two local instances served by
uvicorn over HTTPS (a CA made for the test): export on A, push to B, B has the candidates with
origin A; a tampered package is refused with 4xx and nothing imported."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crawler.cli_support import InputError
from crawler.import_cli import endpoint, read_token
from crawler.store.models import Candidate, User
from crawler.store.models_ops import EvidencePackage
from review.app import create_app
from review.users import issue_token
from tests.conftest import run_kyran
from tests.evidence import exchange_world
from tests.evidence.exchange_world import export, seed_confirmed
from tests.evidence.package_maker import members_of, rewrite
from tests.review.browser import serve

pair = exchange_world.pair  # the fixture: organisations a and b, b trusting a


def token_for(side, role: str = "lead") -> str:
    with side.store.session() as session:
        user = User(username=f"robot_{role}", password_hash="x", role=role)
        session.add(user)
        session.flush()
        return issue_token(session, "component:test", user, "partner a").token


def imported(side) -> tuple[int, int]:
    with side.store.reader() as session:
        return (session.scalar(select(func.count()).select_from(Candidate)),
                session.scalar(select(func.count()).select_from(EvidencePackage)))


def upload(client, package, organisation="a", token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with open(package, "rb") as handle:
        return client.post("/api/packages", headers=headers, data={"organisation": organisation},
                           files={"package": ("../../kyran-x.zip", handle, "application/zip")})


@pytest.fixture
def receiver(pair):
    a, b = pair
    client = TestClient(create_app(b.config, b.store), raise_server_exceptions=False)
    yield a, b, client
    client.close()


def test_a_lead_token_pushes_and_a_repush_changes_nothing(receiver):
    a, b, client = receiver
    package = export(a, [seed_confirmed(a)])
    token = token_for(b)
    response = upload(client, package, token=token)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["organisation"], answer["candidates"], answer["posts"]) == ("a", 1, 3)
    assert answer["already_imported"] is False
    with b.store.reader() as session:
        candidate = session.scalars(select(Candidate)).one()
        assert (candidate.origin_org, candidate.status) == ("a", "open")
        row = session.scalars(select(EvidencePackage)).one()
        assert row.file_name == "kyran-x.zip"  # the sender's name, never a path
    again = upload(client, package, token=token)
    assert again.status_code == 200 and again.json()["already_imported"] is True
    assert imported(b) == (1, 1)


def test_refusals_say_why_and_import_nothing(receiver):
    a, b, client = receiver
    package = export(a, [seed_confirmed(a)])
    lead, analyst = token_for(b, "lead"), token_for(b, "analyst")
    b.trusted.add("c", b.public_key)
    cases = [
        (upload(client, package), 403, "CSRF token"),  # no token, no session: refused first
        (upload(client, package, token="kyr_not-a-token"), 401, "login required"),
        (upload(client, package, token=analyst), 403, "this needs the lead role"),
        (upload(client, package, "Evil/../x", lead), 400, "is not valid"),
        (upload(client, package, "z", lead), 403, "organisation 'z' has no trusted key here"),
        (upload(client, package, "c", lead), 422, "package refused, nothing imported: "
                                                  "manifest.sig does not verify"),
        (client.post("/api/packages", headers={"Authorization": f"Bearer {lead}"},
                     data={"organisation": "a"}), 400, "expected the form fields"),
    ]
    for response, status, says in cases:
        assert response.status_code == status, response.text
        assert says in response.json()["error"], response.json()
    assert imported(b) == (0, 0)


def test_a_session_may_not_push(receiver):
    a, b, client = receiver
    from tests.review.conftest import ReviewClient, login

    with b.store.session() as session:
        from review.auth import hash_password

        session.add(User(username="lena", role="lead",
                         password_hash=hash_password("pw-lead-12345")))
    browser = ReviewClient(client.app, raise_server_exceptions=False)
    assert login(browser, "lena", "pw-lead-12345").status_code == 303
    package = export(a, [seed_confirmed(a)])
    with open(package, "rb") as handle:
        response = browser.post("/api/packages", headers={"X-CSRF-Token": browser.csrf},
                                data={"organisation": "a"},
                                files={"package": ("p.zip", handle, "application/zip")})
    assert response.status_code == 403 and "API token" in response.json()["error"]
    assert imported(b) == (0, 0)


def test_an_upload_over_the_cap_is_413(receiver, tmp_path):
    a, b, client = receiver
    client.app.state.config.evidence.max_upload_mb = 1
    big = tmp_path / "big.zip"
    big.write_bytes(os.urandom(2 << 20))
    response = upload(client, big, token=token_for(b))
    assert response.status_code == 413 and "larger than 1 MiB" in response.json()["error"]

    def chunks():  # no Content-Length: counted as it streams
        with open(big, "rb") as handle:
            yield b'--x\r\nContent-Disposition: form-data; name="package"; filename="p"\r\n\r\n'
            yield from iter(lambda: handle.read(1 << 16), b"")
            yield b"\r\n--x--\r\n"

    response = client.post("/api/packages", content=chunks(), headers={
        "Authorization": f"Bearer {token_for(b, 'admin')}",
        "Content-Type": "multipart/form-data; boundary=x"})
    assert response.status_code == 413
    assert imported(b) == (0, 0)


def make_tls(directory) -> tuple[str, str, str]:
    """A CA and a certificate for 127.0.0.1 signed by it: (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.timezone.utc)

    def cert(subject, issuer, key, signer, ca: bool, san=None):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Partner test CA")])
    ca = cert(ca_name, ca_name, ca_key, ca_key, True)
    leaf = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key,
                ca_key, False, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    paths = [directory / name for name in ("ca.pem", "cert.pem", "key.pem")]
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return tuple(str(p) for p in paths)


def test_kyran_push_between_two_instances_over_https(pair, tmp_path):
    a, b = pair
    ca, cert, key = make_tls(tmp_path)
    token_file = tmp_path / "b.token"
    token_file.write_text(token_for(b) + "\n")
    token_file.chmod(0o600)
    package = export(a, [seed_confirmed(a)])
    tampered = tmp_path / "tampered.zip"
    members = members_of(package)
    members["posts.jsonl"] = members["posts.jsonl"].replace(b"shop_kz", b"shop_kx")
    rewrite(package, members, tampered)
    tls = {"ssl_certfile": cert, "ssl_keyfile": key}
    with serve(create_app(a.config, a.store), **tls) as url_a, \
            serve(create_app(b.config, b.store), **tls) as url_b:
        assert url_a.startswith("https://") and url_b != url_a
        refused = run_kyran("push", str(tampered), "--to", url_b, "--token-file",
                            str(token_file), "--ca-file", ca, config=a.config_file)
        assert refused.returncode == 1
        assert "answered 422: posts.jsonl does not match its SHA-256" in refused.stderr
        assert imported(b) == (0, 0)
        untrusted_ca = run_kyran("push", str(package), "--to", url_b, "--token-file",
                                 str(token_file), config=a.config_file)
        assert untrusted_ca.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in \
            untrusted_ca.stderr
        done = run_kyran("push", str(package), "--to", url_b, "--token-file", str(token_file),
                         "--ca-file", ca, config=a.config_file)
    assert done.returncode == 0, done.stderr
    assert "1 new candidates" in done.stdout
    token = token_file.read_text().strip()
    for output in (refused, untrusted_ca, done):
        assert token not in output.stdout + output.stderr
    with b.store.reader() as session:
        candidate = session.scalars(select(Candidate)).one()
        assert (candidate.origin_org, candidate.origin_decision) == ("a", "sale")


@pytest.mark.parametrize("url, says", [
    ("http://partner.example/", "plain http would send the token in the clear"),
    ("ftp://partner.example/", "expected https://"),
    ("https://user:pw@partner.example/", "without user"),
])
def test_push_refuses_unsafe_addresses(url, says):
    with pytest.raises(InputError) as caught:
        endpoint(url)
    assert says in caught.value.message


def test_push_addresses():
    assert endpoint("https://partner.example:8443/") == "https://partner.example:8443/api/packages"
    assert endpoint("https://p.example/kyran/api/packages") == "https://p.example/kyran/api/packages"
    assert endpoint("http://127.0.0.1:8000") == "http://127.0.0.1:8000/api/packages"


def test_a_token_file_others_may_read_is_refused(tmp_path):
    path = tmp_path / "token"
    path.write_text("kyr_secret\n")
    path.chmod(0o644)
    with pytest.raises(InputError) as caught:
        read_token(str(path))
    assert "chmod 600" in caught.value.message and "kyr_secret" not in caught.value.message
    path.chmod(0o600)
    assert read_token(str(path)) == "kyr_secret"


def test_an_unreachable_partner_is_one_line(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        token = tmp_path / "token"
        token.write_text("kyr_secret-token\n")
        token.chmod(0o600)
        package = tmp_path / "p.zip"
        package.write_bytes(b"PK")
        result = run_kyran("push", str(package), "--to", f"https://127.0.0.1:{port}",
                           "--token-file", str(token), "--from-org", "a",
                           env={"KYRAN_CONFIG": str(tmp_path / "none.toml")})
    assert result.returncode == 1
    assert result.stderr.startswith(f"kyran push: https://127.0.0.1:{port}/api/packages: ")
    assert len(result.stderr.strip().splitlines()) == 1 and "kyr_secret" not in result.stderr
