"""Managing accounts and API tokens, for `kyran user …` and the admin page alike: each change is
recorded as an event by the actor who made it ("user:NAME" or "component:cli").

Errors a person can cause raise UserError with one line (an i18n key where the web shows it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.ingest import add_event
from crawler.store.models import User
from crawler.store.models_ops import ApiToken
from review.auth import hash_password, new_token, now, password_problem, token_digest

ROLES = ("analyst", "lead", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}
LOCALES = ("ru", "en", "kk")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class UserError(Exception):
    """A change to accounts that cannot be made; str() is one line."""


def display(user: User | None) -> str:
    """The name other people see: the display name (may be a pseudonym), else the username."""
    if user is None:
        return "—"
    return user.display_name or user.username


def display_names(session: Session) -> dict[str, str]:
    """Actor ("user:NAME") → the name others see, for event lists."""
    rows = session.execute(select(User.username, User.display_name)).all()
    return {f"user:{name}": shown or name for name, shown in rows}


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def _check_display_name(display_name: str | None) -> str | None:
    if display_name is None:
        return None
    display_name = " ".join(display_name.split())
    if len(display_name) > 128:
        raise UserError("display names are at most 128 characters")
    return display_name or None


def add_user(session: Session, actor: str, username: str, role: str, password: str,
             display_name: str | None = None, locale: str = "ru") -> User:
    if not USERNAME.fullmatch(username):
        raise UserError(f"{username!r}: usernames are 2-64 lower-case letters, digits, . _ -")
    if role not in ROLES:
        raise UserError(f"{role!r}: the role is one of {', '.join(ROLES)}")
    problem = password_problem(password)
    if problem:
        raise UserError("the password must be 10 to 1024 characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} exists already")
    user = User(username=username, role=role, password_hash=hash_password(password),
                display_name=_check_display_name(display_name), active=True,
                locale=locale if locale in LOCALES else "ru", blur_media=True, failed_logins=0)
    session.add(user)
    session.flush()
    add_event(session, actor, "user.add", "user", user.id, username=username, role=role)
    return user


def set_role(session: Session, actor: str, user: User, role: str) -> None:
    if role not in ROLES:
        raise UserError(f"{role!r}: the role is one of {', '.join(ROLES)}")
    if user.role == role:
        return
    _keep_an_admin(session, user, leaving=role != "admin")
    add_event(session, actor, "user.role", "user", user.id, before=user.role, after=role)
    user.role = role


def set_active(session: Session, actor: str, user: User, active: bool) -> None:
    if user.active == active:
        return
    if not active:
        _keep_an_admin(session, user, leaving=True)
    user.active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    add_event(session, actor, "user.enable" if active else "user.disable", "user", user.id)


def _keep_an_admin(session: Session, user: User, leaving: bool) -> None:
    """Refuse to demote or disable the last active admin: nobody could manage users then."""
    if not leaving or user.role != "admin" or not user.active:
        return
    others = session.scalar(select(User.id).where(
        User.role == "admin", User.active.is_(True), User.id != user.id).limit(1))
    if others is None:
        raise UserError("this is the last active admin; make another admin first")


def set_password(session: Session, actor: str, user: User, password: str) -> None:
    """A new password (reset by an admin or changed by the user): the user's sessions end."""
    if password_problem(password):
        raise UserError("the password must be 10 to 1024 characters")
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    add_event(session, actor, "user.password", "user", user.id)


def update_settings(session: Session, user: User, locale: str, blur_media: bool,
                    display_name: str | None) -> None:
    if locale not in LOCALES:
        raise UserError(f"{locale!r}: the language is one of {', '.join(LOCALES)}")
    shown = _check_display_name(display_name)
    changes = {}
    for name, value in (("locale", locale), ("blur_media", blur_media), ("display_name", shown)):
        if getattr(user, name) != value:
            changes[name] = value
            setattr(user, name, value)
    if changes:
        add_event(session, f"user:{user.username}", "account.update", "user", user.id,
                  **changes)


@dataclass
class IssuedToken:
    row: ApiToken
    token: str  # shown once, never stored


def issue_token(session: Session, actor: str, user: User, name: str) -> IssuedToken:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 64:
        raise UserError("a token's name is 1 to 64 characters")
    token = new_token()
    row = ApiToken(user_id=user.id, name=name, token_sha256=token_digest(token))
    session.add(row)
    session.flush()
    add_event(session, actor, "token.create", "user", user.id, token_id=row.id, name=name)
    return IssuedToken(row, token)


def tokens_of(session: Session, user: User | None = None) -> list[tuple[ApiToken, User]]:
    query = select(ApiToken, User).join(User, User.id == ApiToken.user_id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return [(token, owner) for token, owner in session.execute(query.order_by(ApiToken.id))]


def revoke_token(session: Session, actor: str, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise UserError(f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now()
        add_event(session, actor, "token.revoke", "user", row.user_id, token_id=row.id,
                  name=row.name)
    return row
