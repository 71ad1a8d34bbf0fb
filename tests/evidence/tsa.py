"""A local RFC 3161 timestamp authority for the tests: a CA and a TSA certificate (critical
timeStamping EKU) made with `cryptography` in a directory, and an HTTP server on port 0 that
pipes each TimeStampReq to `openssl ts -reply` and answers its TimeStampResp."""

from __future__ import annotations

import subprocess
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_ca(directory: Path, name: str = "Kyran Test Root") -> tuple[x509.Certificate, object]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=30))
                   .not_valid_after(now + timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                False, False), True)
                   .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    return certificate, key


class LocalTsa:
    """`openssl ts -reply` behind HTTP on 127.0.0.1:0; `chain_pem` is the CA (and nothing else:
    the TSA's own certificate travels in each token)."""

    def __init__(self, directory: Path, *, valid_from: datetime | None = None,
                 valid_until: datetime | None = None) -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.ca, ca_key = make_ca(directory)
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(timezone.utc)
        self.valid_until = valid_until or now + timedelta(days=30)
        self.tsa = (x509.CertificateBuilder().subject_name(_name("Kyran Test TSA"))
                    .issuer_name(self.ca.subject).public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(valid_from or now - timedelta(days=1))
                    .not_valid_after(self.valid_until)
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)
                    .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                                 False, False), True)
                    .sign(ca_key, hashes.SHA256()))
        (directory / "tsa.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        (directory / "tsa.pem").write_bytes(_pem(self.tsa))
        self.chain_pem = _pem(self.ca)
        (directory / "chain.pem").write_bytes(self.chain_pem)
        (directory / "serial").write_text("01\n")
        (directory / "tsa.cnf").write_text(CONFIG.format(dir=directory))
        self.requests = 0
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                tsa.requests += 1
                reply = tsa.reply(query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d/tsa" % self.server.server_address[1]

    def reply(self, query: bytes) -> bytes:
        (self.dir / "query.tsq").write_bytes(query)
        subprocess.run(["openssl", "ts", "-reply", "-config", str(self.dir / "tsa.cnf"),
                        "-queryfile", str(self.dir / "query.tsq"),
                        "-out", str(self.dir / "reply.tsr")],
                       check=True, capture_output=True)
        return (self.dir / "reply.tsr").read_bytes()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
