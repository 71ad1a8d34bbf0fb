"""Where alerts go: a webhook (a JSON POST), e-mail over SMTP, and a Telegram bot's message to a
private chat through the Bot API's `sendMessage`.

Each channel's `send(alert)` blocks (the alerter calls it in a thread) and raises `SendError`
with one line when the message was not taken. Secrets (the SMTP password, the bot token) are
read from files that only their owner may read (`read_secret`); the token sits in the Bot API's
URL path, so that URL never appears in an error or a log line.
"""

from __future__ import annotations

import html
import http.client
import json
import smtplib
import ssl
import stat
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from crawler.config_daemon import AlertsConfig, SmtpAlerts, TelegramBotAlerts

TIMEOUT = 30  # seconds one send may take


class SecretFileError(ValueError):
    """A secret file is missing, empty or readable by others; the message is one line. (A
    ValueError: what the configuration holds cannot be used.)"""


class SendError(Exception):
    """A channel did not take an alert; the message is one line without any secret."""


def read_secret(path: Path, key: str) -> str:
    """The secret in `path` (surrounding blanks removed); refused unless only its owner can
    read it. `key` names the setting in messages (alerts.smtp.password_file)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise SecretFileError(f"{key}: {path} is not a file")
        if info.st_mode & 0o077:
            raise SecretFileError(
                f"{key}: {path} can be read by others (mode {stat.S_IMODE(info.st_mode):04o}): "
                f"run chmod 600 {path}")
        secret = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SecretFileError(f"{key}: {path}: no such file") from None
    except PermissionError:
        raise SecretFileError(f"{key}: {path}: permission denied (kyran's user must own "
                              "it)") from None
    except UnicodeDecodeError:
        raise SecretFileError(f"{key}: {path}: not UTF-8 text") from None
    if not secret:
        raise SecretFileError(f"{key}: {path} is empty")
    return secret


@dataclass
class Alert:
    """One message: a new candidate, with those held back by the rate limit summed up; or
    only the summary (candidate_id None). Every text field is already made safe (defanged,
    one line)."""

    candidate_id: int | None
    category: str = ""
    priority: int = 0
    subject: str = ""
    reasons: list[str] = field(default_factory=list)
    link: str | None = None
    more: list[tuple[int, int, str]] = field(default_factory=list)  # id, priority, category

    @property
    def title(self) -> str:
        if self.candidate_id is None:
            return f"Kyran: {len(self.more)} candidates held back by the rate limit"
        return f"Kyran: new {self.category} candidate #{self.candidate_id}, priority " \
               f"{self.priority}"

    def _more_line(self) -> str | None:
        if not self.more:
            return None
        listed = ", ".join(f"#{cid} ({category}, {priority})"
                           for cid, priority, category in self.more[:10])
        rest = f" and {len(self.more) - 10} others" if len(self.more) > 10 else ""
        lead = "Held" if self.candidate_id is None else f"And {len(self.more)} more held"
        return f"{lead} over the rate limit: {listed}{rest}"

    def plain(self) -> str:
        lines = [self.title]
        if self.candidate_id is not None:
            lines.append(f"Subject: {self.subject}")
            if self.reasons:
                lines.append("Reasons: " + "; ".join(self.reasons))
            if self.link:
                lines.append(f"Review: {self.link}")
        if self._more_line():
            lines.append(self._more_line())
        return "\n".join(lines)

    def html(self) -> str:
        """For the Bot API's HTML parse mode: everything escaped, only our own <b> tags."""
        lines = [f"<b>{html.escape(self.title)}</b>"]
        if self.candidate_id is not None:
            lines.append(f"Subject: {html.escape(self.subject)}")
            if self.reasons:
                lines.append("Reasons: " + html.escape("; ".join(self.reasons)))
            if self.link:
                lines.append(f"Review: {html.escape(self.link)}")
        if self._more_line():
            lines.append(html.escape(self._more_line()))
        return "\n".join(lines)

    def document(self) -> dict:
        return {"kind": "kyran.candidate" if self.candidate_id else "kyran.held",
                "candidate_id": self.candidate_id, "category": self.category or None,
                "priority": self.priority if self.candidate_id else None,
                "subject": self.subject or None, "reasons": self.reasons, "review": self.link,
                "held": [{"candidate_id": cid, "priority": p, "category": c}
                         for cid, p, c in self.more],
                "text": self.plain()}


def _post_json(url: str, document: dict, what: str, secret: str | None = None) -> bytes:
    request = urllib.request.Request(
        url, data=json.dumps(document, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8",
                 "User-Agent": "kyran-alerts"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        body = exc.read(4096).decode("utf-8", "replace")
        raise SendError(clean_line(f"{what} answered HTTP {exc.code}{_described(body)}",
                               secret)) from None
    except urllib.error.URLError as exc:
        raise SendError(clean_line(f"{what} unreachable: {exc.reason}", secret)) from None
    except OSError as exc:
        raise SendError(clean_line(f"{what} unreachable: {exc}", secret)) from None
    except (http.client.HTTPException, ValueError) as exc:
        # These quote the URL, and a bot's URL holds its token: only the kind of failure.
        raise SendError(f"{what} unreachable: {type(exc).__name__} (check the URL"
                        f"{' and the token' if secret else ''})") from None


def _described(body: str) -> str:
    try:
        description = json.loads(body).get("description")
    except (ValueError, AttributeError):
        return ""
    return f": {description}" if description else ""


def clean_line(line: str, secret: str | None) -> str:
    """One line of at most 300 characters, without the secret (as is, or as repr() quotes it)."""
    if secret:
        for form in (secret, repr(secret)[1:-1], ascii(secret)[1:-1]):
            line = line.replace(form, "***")
    return " ".join(line.split())[:300]


class WebhookChannel:
    name = "webhook"
    secret = None

    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, alert: Alert) -> None:
        _post_json(self.url, alert.document(), "webhook")


class EmailChannel:
    name = "email"

    def __init__(self, config: SmtpAlerts, password: str | None) -> None:
        self.config, self.password = config, password
        self.secret = password

    def send(self, alert: Alert) -> None:
        c = self.config
        message = EmailMessage()
        message["Subject"] = alert.title
        message["From"] = c.sender
        message["To"] = ", ".join(c.recipients)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=c.sender.rpartition("@")[2] or None)
        message.set_content(alert.plain() + "\n")
        try:
            if c.ssl:
                client = smtplib.SMTP_SSL(c.host, c.port, timeout=TIMEOUT,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(c.host, c.port, timeout=TIMEOUT)
            with client:
                if c.starttls and not c.ssl:
                    client.starttls(context=ssl.create_default_context())
                if c.username:
                    client.login(c.username, self.password or "")
                client.send_message(message)
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(
                exc.smtp_error, bytes) else str(exc.smtp_error)
            raise SendError(clean_line(f"SMTP {c.host}:{c.port} answered {exc.smtp_code} {text}",
                                   self.password)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(clean_line(f"SMTP {c.host}:{c.port}: {exc}", self.password)) from None


class TelegramBotChannel:
    name = "telegram"

    def __init__(self, config: TelegramBotAlerts, token: str) -> None:
        self.config, self.token = config, token
        self.secret = token

    def send(self, alert: Alert) -> None:
        url = f"{self.config.api_url.rstrip('/')}/bot{self.token}/sendMessage"
        body = _post_json(url, {"chat_id": self.config.chat_id, "text": alert.html(),
                                "parse_mode": "HTML", "disable_web_page_preview": True},
                          "Bot API", secret=self.token)
        try:
            answer = json.loads(body)
        except ValueError:
            raise SendError("Bot API answered something that is not JSON") from None
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            raise SendError(clean_line(f"Bot API refused the message{_described(body.decode())}",
                                   self.token))


def build_channels(config: AlertsConfig, home: Path) -> list:
    """The configured channels, their secrets read (SecretFileError when a file is unfit)."""
    def resolve(path: Path) -> Path:
        return path if path.is_absolute() else home / path

    channels: list = []
    if config.webhook_url:
        channels.append(WebhookChannel(config.webhook_url))
    if config.smtp is not None:
        password = None
        if config.smtp.password_file is not None:
            password = read_secret(resolve(config.smtp.password_file),
                                   "alerts.smtp.password_file")
        channels.append(EmailChannel(config.smtp, password))
    if config.telegram_bot is not None:
        token = read_secret(resolve(config.telegram_bot.token_file),
                            "alerts.telegram_bot.token_file")
        channels.append(TelegramBotChannel(config.telegram_bot, token))
    return channels
