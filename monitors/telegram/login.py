"""Signing an account in to Telegram: phone, the code Telegram sends, and the two-step password
when the account has one. Wrong answers are asked again a bounded number of times; everything
else that stops the sign-in raises `LoginError` with one line saying what to do.

The flow takes the client (Telethon's `TelegramClient`, or anything with its `connect`,
`is_user_authorized`, `get_me`, `send_code_request` and `sign_in`) and a `prompt(label, secret)`
callable, so it runs the same from the command line and from tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from telethon import errors

ATTEMPTS = 3

Prompt = Callable[[str, bool], str]


class LoginError(Exception):
    """The sign-in stopped; the message is one line (never a code, password or session)."""


async def sign_in(client, prompt: Prompt, phone: str | None = None, attempts: int = ATTEMPTS):
    """Sign `client` in (it must be connected) and return Telegram's `User` for the account.
    An already authorised session is returned as it is."""
    if await client.is_user_authorized():
        return await client.get_me()
    phone, sent = await _send_code(client, prompt, phone, attempts)
    for attempt in range(1, attempts + 1):
        code = (await _ask(prompt, "Code Telegram sent", False)).strip().replace(" ", "")
        try:
            return await client.sign_in(phone=phone, code=code,
                                        phone_code_hash=sent.phone_code_hash)
        except errors.PhoneCodeInvalidError:
            _warn_or_fail(prompt, attempt, attempts, "the code is wrong")
        except (errors.PhoneCodeExpiredError, errors.PhoneCodeEmptyError):
            raise LoginError("the code has expired: run kyran telegram login again") from None
        except errors.SessionPasswordNeededError:
            return await _password(client, prompt, attempts)
        except errors.FloodWaitError as exc:
            raise _flood(exc) from None
    raise AssertionError("unreachable")


async def _send_code(client, prompt: Prompt, phone: str | None, attempts: int):
    for attempt in range(1, attempts + 1):
        if not phone:
            phone = (await _ask(prompt, "Phone number (international, e.g. +77001234567)",
                                False)).strip()
        try:
            return phone, await client.send_code_request(phone)
        except (errors.PhoneNumberInvalidError, errors.PhoneNumberUnoccupiedError):
            _warn_or_fail(prompt, attempt, attempts, "Telegram does not know that phone number")
            phone = None
        except errors.PhoneNumberBannedError:
            raise LoginError("Telegram has banned this phone number") from None
        except errors.FloodWaitError as exc:
            raise _flood(exc) from None
    raise AssertionError("unreachable")


async def _password(client, prompt: Prompt, attempts: int):
    for attempt in range(1, attempts + 1):
        password = await _ask(prompt, "Two-step verification password", True)
        try:
            return await client.sign_in(password=password)
        except errors.PasswordHashInvalidError:
            _warn_or_fail(prompt, attempt, attempts, "the password is wrong")
        except errors.FloodWaitError as exc:
            raise _flood(exc) from None
    raise AssertionError("unreachable")


def _warn_or_fail(prompt: Prompt, attempt: int, attempts: int, what: str) -> None:
    if attempt >= attempts:
        raise LoginError(f"{what} ({attempts} attempts): nothing was saved; run kyran telegram "
                         "login again")
    notice = getattr(prompt, "notice", None)
    if notice is not None:
        notice(f"{what}, try again ({attempts - attempt} left)")


def _flood(exc: errors.FloodWaitError) -> LoginError:
    return LoginError(f"Telegram asks to wait {exc.seconds} s before trying again (flood wait); "
                      "nothing was saved")


async def _ask(prompt: Prompt, label: str, secret: bool) -> str:
    """A prompt may be a plain function (the terminal: Ctrl-C stops at once) or a coroutine
    function; Telethon's connection survives the wait either way (it reconnects if need be)."""
    answer = prompt(label, secret)
    if asyncio.iscoroutine(answer):
        answer = await answer
    return answer


def describe_user(user) -> str:
    """Who is signed in: name, @username and id (the caller makes it safe to show)."""
    name = " ".join(part for part in (getattr(user, "first_name", None),
                                      getattr(user, "last_name", None)) if part) or "(no name)"
    username = getattr(user, "username", None)
    return f"{name}{f' (@{username})' if username else ''}, id {user.id}"
