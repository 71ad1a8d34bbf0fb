"""Configuration: defaults, the file, KYRAN_* overrides, and one clear line for each mistake."""

from pathlib import Path

import pytest

from crawler.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "kyran.example.toml"


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.store.url.startswith("sqlite:///")
    assert config.database_url == f"sqlite:///{tmp_path}/var/kyran.sqlite"
    assert config.captures_path == tmp_path / "var" / "captures"
    assert config.crawl.obey_robots is True


def documented_keys(model, prefix=""):
    """Dotted names of every setting, through nested sections, dict-of-section tables (sites,
    telegram accounts) and optional sections (alerts.smtp)."""
    from pydantic import BaseModel

    for name, field in model.model_fields.items():
        if name == "home":
            continue
        kinds = [field.annotation, *getattr(field.annotation, "__args__", ())]
        nested = [k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)]
        if nested:
            yield from documented_keys(nested[0], f"{prefix}{name}.")
        elif name in ("sites", "accounts"):
            continue  # tables of sections, checked below by their own models
        elif field.annotation == dict[str, str]:
            yield f"[{prefix}{name}]"  # a table of its own: documented by its header
        else:
            yield f"{prefix}{name}"


def test_example_file_is_valid_and_documents_every_section():
    from crawler.config import SiteTarget
    from crawler.config_telegram import TelegramAccount

    config = load_config(EXAMPLE, environ={})
    text = EXAMPLE.read_text(encoding="utf-8")
    for section in ("[store]", "[crawl]", "[telegram_preview]", "[sites.", "[telegram]",
                    "[telegram.accounts.", "[daemon]", "[liveness]", "[retention]", "[alerts]",
                    "[alerts.smtp]", "[alerts.telegram_bot]", "[telegram.server]"):
        assert section in text, section
    keys = [*documented_keys(type(config)), *documented_keys(SiteTarget),
            *documented_keys(TelegramAccount)]
    assert len(keys) > 80
    for key in keys:
        if key.startswith("["):  # a table: its header, or an inline table
            inline = key.strip("[]").rsplit(".", 1)[-1] + " ="
            assert key in text or inline in text, f"kyran.example.toml does not document {key}"
            continue
        leaf = key.rsplit(".", 1)[-1]
        assert f"{leaf} =" in text or f"{key.split('.', 1)[-1]} =" in text, (
            f"kyran.example.toml does not document {key}")


def test_paths_are_relative_to_the_config_file(tmp_path):
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "kyran.toml"
    path.write_text('[store]\nurl = "sqlite:///data/k.sqlite"\ncaptures_dir = "caps"\n')
    config = load_config(path, environ={})
    assert config.database_url == f"sqlite:///{tmp_path}/etc/data/k.sqlite"
    assert config.captures_path == tmp_path / "etc" / "caps"


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "kyran.toml"
    path.write_text("[crawl]\nretry_times = 5\n")
    config = load_config(path, environ={"KYRAN_CRAWL__RETRY_TIMES": "1",
                                        "KYRAN_CRAWL__OBEY_ROBOTS": "false",
                                        "KYRAN_TELEGRAM_PREVIEW__CHANNELS": '["a_b_c", "d_e_f"]'})
    assert config.crawl.retry_times == 1
    assert config.crawl.obey_robots is False
    assert config.telegram_preview.channels == ["a_b_c", "d_e_f"]


@pytest.mark.parametrize(
    "content, expected",
    [
        ("[crawl]\nretry_times = \"many\"\n", "kyran.toml: crawl.retry_times: input should be a valid integer"),
        ("[crawl]\nretry_tims = 3\n", "kyran.toml: crawl.retry_tims: unknown key"),
        ("[store]\nurl = \"mysql://x\"\n", "kyran.toml: store.url: expected a sqlite:/// or postgresql"),
        ("[sites.m]\nallowed_domains = []\n", "kyran.toml: sites.m.start_urls: required key is missing"),
        ("[sites.m]\nstart_urls = [\"http://a\"]\nproxy = \"tor\"\n", "kyran.toml: sites.m.proxy: expected http://HOST:PORT"),
        ("[sites.m]\nstart_urls = [\"http://a\"]\npost_url_pattern = \"(\"\n", "sites.m.post_url_pattern: not a valid regular expression"),
        ("[telegram_preview]\nbase_url = \"t.me\"\n", "telegram_preview.base_url: expected an http:// or https:// URL"),
        ("[crawl\nretry_times = 1\n", "kyran.toml: not valid TOML"),
        ("[detection]\nsale_threshold = 1.5\n", "kyran.toml: detection.sale_threshold: input should be less than or equal to 1"),
        ("[detection]\nlexicon_dir = \"nowhere\"\n", "nowhere is not a directory"),
    ],
)
def test_each_mistake_is_one_clear_line(tmp_path, content, expected):
    path = tmp_path / "kyran.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert str(tmp_path) in message


def test_a_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match=r"^environment KYRAN_CRAWL__DOWNLOAD_DELAY: crawl\.download_delay: "):
        load_config(tmp_path / "none.toml" if False else None,
                    environ={"KYRAN_CRAWL__DOWNLOAD_DELAY": "-1"})


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml", environ={})


def test_cli_reports_a_config_error_in_one_line_and_exit_2(tmp_path, kyran):
    path = tmp_path / "kyran.toml"
    path.write_text("[crawl]\nobey_robot = true\n")
    result = kyran("sources", config=path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"kyran: configuration error: {path}: crawl.obey_robot: unknown key "
        "(check the spelling against kyran.example.toml)"]


def test_a_password_in_a_bad_value_is_never_shown(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={"KYRAN_STORE__URL": "postgres://kyran:S3cretPw@db:5432/k"})
    assert "S3cretPw" not in str(caught.value)
    assert "postgres://kyran:***@db:5432/k" in str(caught.value)
