"""Request texts: every recipient renders in every language with the notice fields filled, the
scraped text defanged and on one line, an organisation's template replaces the bundled one, and a
template that cannot be filled (a setting left empty, a misspelt name, an unsafe attribute)
refuses with one line naming the template, the line and what to do."""

from __future__ import annotations

import pytest

from crawler.config_evidence import LANGUAGES, RECIPIENTS, EvidenceConfig
from evidence.requests import RequestError, exact_url, request_texts
from tests.evidence.report_samples import subjects

FULL = dict(organisation="Taza Qogam volunteers", contact_email="report@example.org",
            contact_name="duty analyst", legal_basis="Law on narcotic drugs, art. 12")


def render(recipient: str, **settings) -> dict[str, str]:
    config = EvidenceConfig(**{**FULL, **settings})
    return request_texts(config, package_id="7d3e5c1a", created_at="2026-11-30T07:00:00Z",
                         recipient=recipient, subjects=subjects())


@pytest.mark.parametrize("recipient", RECIPIENTS)
def test_every_recipient_in_every_language(recipient):
    texts = render(recipient)
    assert sorted(texts) == sorted(f"requests/{recipient}.{lang}.txt" for lang in LANGUAGES)
    for text in texts.values():
        assert "https://t.me/shop_alm" in text and "https://t.me/rabota_kz" in text
        assert "https://t.me/shop_alm/12" in text  # exact URLs of the evidence
        assert "Taza Qogam volunteers" in text and "7d3e5c1a" in text
        assert "hxxps://evil[.]kz" in text and "https://evil.kz" not in text
        assert "hxxps://pay[.]shop[.]kz" in text
        assert "\u202e" not in text and "\nFake: line" not in text
        assert "{{" not in text and "{%" not in text


def test_telegram_notice_has_the_dsa_fields():
    text = render("telegram")["requests/telegram.en.txt"]
    assert "Art. 16" in text
    assert "report@example.org" in text  # the notifier's e-mail, a setting: not defanged
    assert "Explanation:" in text and "Мефедрон" in text and "telegram:@shop_bot" in text
    assert "in good faith" in text and "accurate and complete" in text
    assert "[capture: dropped by retention]" in text


def test_regulator_letter_cites_the_legal_basis_and_the_categories():
    texts = render("regulator")
    assert "Law on narcotic drugs, art. 12" in texts["requests/regulator.en.txt"]
    assert "recruitment of drug couriers" in texts["requests/regulator.en.txt"]
    assert "продажа наркотических средств" in texts["requests/regulator.ru.txt"]
    assert "есірткі заттарды сату" in texts["requests/regulator.kk.txt"]


def test_a_url_that_is_not_plain_http_is_defanged_not_kept():
    assert exact_url("https://t.me/shop_alm/12") == "https://t.me/shop_alm/12"
    assert exact_url("https://shop.kz/a b\nc") == "hxxps://shop[.]kz/a b c"
    assert exact_url("javascript:alert(3)") == "javascript:alert(3)"  # text, never a link


@pytest.mark.parametrize(("recipient", "setting", "missing"), [
    ("telegram", "contact_email", "contact_email"),
    ("regulator", "legal_basis", "legal_basis"),
])
def test_an_empty_required_setting_refuses_with_one_line(recipient, setting, missing):
    with pytest.raises(RequestError) as error:
        render(recipient, **{setting: "  "})
    message = str(error.value)
    assert "\n" not in message and f"{recipient}.ru.txt.j2 line " in message
    assert f"set [evidence] {missing}" in message


def test_generic_needs_no_optional_setting():
    texts = render("generic", contact_email="", contact_name="", legal_basis="")
    assert all("Taza Qogam volunteers" in text for text in texts.values())


def test_the_organisations_template_replaces_the_bundled_one(tmp_path):
    (tmp_path / "telegram.en.txt.j2").write_text(
        "Ours: {{ notifier.name }} {% for s in subjects %}{{ s.url }} {{ s.title }};{% endfor %}",
        encoding="utf-8")
    texts = render("telegram", templates_dir=tmp_path, languages=["en", "ru"])
    assert texts["requests/telegram.en.txt"].startswith("Ours: Taza Qogam volunteers https://t.me/")
    assert "hxxps://evil[.]kz" in texts["requests/telegram.en.txt"]
    assert texts["requests/telegram.ru.txt"].startswith("Тема:")  # bundled where none of ours


@pytest.mark.parametrize(("body", "expected"), [
    ("Hello\n{{ organisaton }}", "line 2: unfilled placeholder ('organisaton' is undefined)"),
    ("{{ ''.__class__.__mro__ }}", "line 1: access to attribute '__class__'"),
    ("ok\n\n{% for %}", "line 3: Expected an expression"),
])
def test_a_broken_template_refuses_with_its_path_and_line(tmp_path, body, expected):
    (tmp_path / "generic.en.txt.j2").write_text(body, encoding="utf-8")
    with pytest.raises(RequestError) as error:
        render("generic", templates_dir=tmp_path, languages=["en"])
    message = str(error.value)
    assert message.startswith(f"request template {tmp_path / 'generic.en.txt.j2'} ")
    assert expected in message and "\n" not in message


def test_scraped_text_is_data_not_template():
    rows = subjects()
    rows[0]["title"] = "{{ notifier.email }} {% raw %}"
    text = request_texts(EvidenceConfig(**FULL, languages=["en"]), package_id="p",
                         created_at="t", recipient="generic", subjects=rows)
    assert '"{{ notifier.email }} {% raw %}"' in text["requests/generic.en.txt"]
