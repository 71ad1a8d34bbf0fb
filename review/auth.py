"""Who is asking: argon2 password hashes, the login check with its lock-out, the signed session
cookie, and API tokens.

A session is a cookie signed with itsdangerous (the key from `review.secret_key_file`) that
holds a random nonce (the CSRF tokens derive from it), the user's id and a fingerprint of the
user's password hash; it is re-signed on every request, and refused once older than
`review.session_hours`, so it expires after that long idle. Every request reloads the user: a
disabled account, or one whose password changed, is out at once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.ingest import add_event
from crawler.store.models import User
from crawler.store.models_ops import ApiToken

SESSION_COOKIE = "kyran_session"
TOKEN_PREFIX = "kyr_"
HASHER = PasswordHasher()  # argon2id, RFC 9106's low-memory parameters


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user does not exist, so a failure takes as long either way."""
    return HASHER.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < 10:
        return "password.too_short"
    if len(password) > 1024:
        return "password.too_long"
    return None


def fingerprint(user: User) -> str:
    """Changes when the password does: sessions made before a change stop working."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def now() -> datetime:
    return datetime.now(timezone.utc)


def aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


@dataclass
class LoginResult:
    user: User | None
    problem: str | None  # an i18n key: login.failed | login.locked


def attempt_login(session: Session, username: str, password: str, attempts: int,
                  lockout_minutes: int, address: str) -> LoginResult:
    """Check a login and record it: the event, and the failure count with the lock-out after
    `attempts` failures in a row. A locked account is refused even with the right password."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        check_password(_dummy_hash(), password)
        add_event(session, f"user:{username[:64]}", "login.failed", "user",
                  user.id if user else None, address=address, why="unknown or disabled")
        return LoginResult(None, "login.failed")
    moment = now()
    locked = aware(user.locked_until)
    if locked is not None and locked > moment:
        check_password(_dummy_hash(), password)
        add_event(session, f"user:{user.username}", "login.failed", "user", user.id,
                  address=address, why="locked")
        return LoginResult(None, "login.locked")
    if not check_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        add_event(session, f"user:{user.username}", "login.failed", "user", user.id,
                  address=address, why="password", failures=user.failed_logins)
        if user.failed_logins >= attempts:
            user.locked_until = moment + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
            add_event(session, f"user:{user.username}", "login.locked", "user", user.id,
                      address=address, until=user.locked_until.isoformat())
            return LoginResult(None, "login.locked")
        return LoginResult(None, "login.failed")
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = moment
    add_event(session, f"user:{user.username}", "login", "user", user.id, address=address)
    return LoginResult(user, None)


@dataclass
class SessionData:
    """What the session cookie holds. `user_id` None: not logged in (the nonce still protects
    the login form against CSRF)."""

    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    user_id: int | None = None
    fingerprint: str | None = None
    changed: bool = True

    def dump(self) -> dict:
        return {"n": self.nonce, "u": self.user_id, "f": self.fingerprint}


class SessionCodec:
    """Signs and checks session cookies and the CSRF tokens derived from them."""

    def __init__(self, key: bytes, max_age_seconds: int) -> None:
        self.key = key
        self.max_age = max_age_seconds
        self.serializer = URLSafeTimedSerializer(key, salt="kyran.session")

    def encode(self, data: SessionData) -> str:
        return self.serializer.dumps(data.dump())

    def decode(self, cookie: str | None) -> SessionData | None:
        if not cookie or len(cookie) > 4096:
            return None
        try:
            raw = self.serializer.loads(cookie, max_age=self.max_age)
        except (BadSignature, SignatureExpired, ValueError):
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("n"), str):
            return None
        user_id = raw.get("u")
        if user_id is not None and not isinstance(user_id, int):
            return None
        return SessionData(nonce=raw["n"], user_id=user_id, fingerprint=raw.get("f"),
                           changed=False)

    def csrf_token(self, data: SessionData) -> str:
        return hmac.new(self.key, b"csrf:" + data.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, data: SessionData, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(data), str(token))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def user_for_token(session: Session, token: str) -> tuple[User, ApiToken] | None:
    """The active user an unrevoked API token acts for; its last use is noted (at most once a
    minute, so a busy client does not write on every request)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.execute(
        select(User, ApiToken).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_sha256 == token_digest(token), ApiToken.revoked_at.is_(None),
               User.active.is_(True))).first()
    if row is None:
        return None
    user, api_token = row
    moment = now()
    last = aware(api_token.last_used_at)
    if last is None or moment - last > timedelta(minutes=1):
        api_token.last_used_at = moment
    return user, api_token
