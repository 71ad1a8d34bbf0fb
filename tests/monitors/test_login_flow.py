"""The sign-in flow against a client that behaves like Telethon's: wrong answers are asked again
(bounded), two-step passwords, flood waits and unknown phones end in one clear line."""

from __future__ import annotations

import asyncio

import pytest

from monitors.telegram.login import LoginError, describe_user, sign_in
from tests.monitors.login_fakes import PHONE, FakeSignInClient


class Answers:
    """A prompt that answers from a list and records what it was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers, self.asked, self.notices = list(answers), [], []

    def __call__(self, label: str, secret: bool) -> str:
        self.asked.append((label, secret))
        return self.answers.pop(0)

    def notice(self, text: str) -> None:
        self.notices.append(text)


def run(client, prompt, phone=PHONE, attempts=3):
    async def flow():
        await client.connect()
        return await sign_in(client, prompt, phone, attempts)

    return asyncio.run(flow())


def test_code_signs_in():
    client, prompt = FakeSignInClient(), Answers("12 345")
    user = run(client, prompt)
    assert user.id == 424242 and client.session.auth_key is not None
    assert client.codes_sent == [PHONE]
    assert prompt.asked == [("Code Telegram sent", False)]
    assert describe_user(user) == "Aigerim Analyst (@kyran_watch), id 424242"


def test_wrong_code_is_asked_again_then_accepted():
    client, prompt = FakeSignInClient(), Answers("11111", "12345")
    assert run(client, prompt).id == 424242
    assert [a["code"] for a in client.attempts] == ["11111", "12345"]
    assert prompt.notices == ["the code is wrong, try again (2 left)"]


def test_wrong_code_too_often_stops_with_one_line():
    client, prompt = FakeSignInClient(), Answers("1", "2", "3", "12345")
    with pytest.raises(LoginError) as caught:
        run(client, prompt)
    assert str(caught.value) == ("the code is wrong (3 attempts): nothing was saved; run kyran "
                                 "telegram login again")
    assert len(client.attempts) == 3 and client.session.auth_key is None


def test_two_step_password_hidden_and_retried():
    client, prompt = FakeSignInClient(password="correct horse"), Answers("12345", "wrong",
                                                                          "correct horse")
    assert run(client, prompt).id == 424242
    assert prompt.asked[1:] == [("Two-step verification password", True)] * 2
    assert prompt.notices == ["the password is wrong, try again (2 left)"]


def test_wrong_password_too_often():
    client, prompt = FakeSignInClient(password="pw"), Answers("12345", "a", "b")
    with pytest.raises(LoginError, match=r"^the password is wrong \(2 attempts\)"):
        run(client, prompt, attempts=2)
    assert client.session.auth_key is None


def test_phone_asked_when_not_configured_and_again_when_unknown():
    client, prompt = FakeSignInClient(), Answers("+70000000000", PHONE, "12345")
    assert run(client, prompt, phone=None).id == 424242
    assert client.codes_sent == [PHONE]
    assert prompt.notices == ["Telegram does not know that phone number, try again (2 left)"]


def test_flood_wait_says_how_long():
    client = FakeSignInClient(flood=3600)
    with pytest.raises(LoginError) as caught:
        run(client, Answers())
    assert str(caught.value) == ("Telegram asks to wait 3600 s before trying again (flood "
                                 "wait); nothing was saved")


def test_an_authorised_session_is_kept():
    client, prompt = FakeSignInClient(authorized=True), Answers()
    assert run(client, prompt).id == 424242
    assert prompt.asked == [] and client.codes_sent == []
