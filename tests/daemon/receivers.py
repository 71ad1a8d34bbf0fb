"""Local receivers for the alert tests, on port 0 with the address read back: an HTTP server
recording JSON POSTs (a webhook, or the Telegram Bot API) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import json
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HttpReceiver:
    """Records each POST (path, JSON body); answers `status` with `reply` (a dict as JSON)."""

    def __init__(self, status: int = 200, reply: dict | None = None) -> None:
        self.status, self.reply = status, reply or {"ok": True, "result": {"message_id": 1}}
        self.requests: list[tuple[str, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append((self.path, json.loads(self.rfile.read(length))))
                body = json.dumps(receiver.reply).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """aiosmtpd on its own event loop in a thread; `reject` makes it refuse every message;
    `password` requires AUTH LOGIN/PLAIN with user `kyran` and that password."""

    def __init__(self, password: str | None = None, tls_context=None) -> None:
        from aiosmtpd.smtp import SMTP, AuthResult

        self.messages: list = []
        self.reject = False
        self.logins: list[tuple[str, str]] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                if receiver.reject:
                    return "554 5.7.1 rejected by policy"
                receiver.messages.append(envelope)
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, auth_data):
            login = auth_data.login.decode()
            secret = auth_data.password.decode()
            receiver.logins.append((login, secret))
            # handled=False: aiosmtpd answers the refusal (535) itself
            return AuthResult(success=(login, secret) == ("kyran", password), handled=False)

        def factory():
            if tls_context is not None:
                return SMTP(Handler(), tls_context=tls_context, require_starttls=True)
            if password is None:
                return SMTP(Handler())
            with warnings.catch_warnings():  # AUTH without TLS: a test server on loopback
                warnings.simplefilter("ignore", UserWarning)
                return SMTP(Handler(), authenticator=authenticate, auth_required=True,
                            auth_require_tls=False)

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            self._serve(factory), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, factory):
        return await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)

    def close(self) -> None:
        async def stop():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def self_signed_context(directory):
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "smtp.crt", directory / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context
