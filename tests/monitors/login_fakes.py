"""A stand-in for Telethon's TelegramClient during sign-in: it answers with Telethon's own TL
types and raises Telethon's own errors, as Telegram would."""

from __future__ import annotations

import os

from telethon import errors
from telethon.crypto import AuthKey
from telethon.sessions import StringSession
from telethon.tl.types import User
from telethon.tl.types.auth import SentCode, SentCodeTypeApp

PHONE = "+77001234567"


class FakeSignInClient:
    def __init__(self, *, code: str = "12345", password: str | None = None,
                 phones: tuple[str, ...] = (PHONE,), flood: int | None = None,
                 authorized: bool = False, unreachable: bool = False,
                 revoked: bool = False) -> None:
        self.code, self.password, self.phones, self.flood = code, password, phones, flood
        self.unreachable = unreachable
        self.session = StringSession()
        self.user = User(id=424242, first_name="Aigerim", last_name="Analyst",
                         username="kyran_watch")
        self.connected = False
        self.codes_sent: list[str] = []
        self.attempts: list[dict] = []
        self.revoked = revoked
        if authorized or revoked:
            self._authorise()

    def _authorise(self) -> None:
        self.session.set_dc(2, "149.154.167.40", 443)
        self.session.auth_key = AuthKey(os.urandom(256))

    async def connect(self) -> None:
        if self.unreachable:
            raise ConnectionError("Connection to Telegram failed 2 time(s)")
        self.connected = True

    def is_connected(self) -> bool:
        return self.connected

    async def disconnect(self) -> None:
        self.connected = False

    async def is_user_authorized(self) -> bool:
        return self.session.auth_key is not None and not self.revoked

    async def get_me(self) -> User:
        return self.user

    async def send_code_request(self, phone: str) -> SentCode:
        if self.flood:
            raise errors.FloodWaitError(request=None, capture=self.flood)
        if phone not in self.phones:
            raise errors.PhoneNumberInvalidError(request=None)
        self.codes_sent.append(phone)
        return SentCode(type=SentCodeTypeApp(length=5), phone_code_hash="hash-1")

    async def sign_in(self, phone=None, code=None, *, password=None, phone_code_hash=None):
        self.attempts.append({"phone": phone, "code": code, "password": password,
                              "phone_code_hash": phone_code_hash})
        if password is None:
            if phone_code_hash != "hash-1" or code != self.code:
                raise errors.PhoneCodeInvalidError(request=None)
            if self.password is not None:
                raise errors.SessionPasswordNeededError(request=None)
        elif password != self.password:
            raise errors.PasswordHashInvalidError(request=None)
        self.revoked = False
        self._authorise()
        return self.user
