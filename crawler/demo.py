"""`kyran demo`: the whole ingest on a bundled fixture site, for a newcomer.

Serves a fictional Telegram (shop, recruitment, news and ordinary channels, one without a
preview, one deleted, one renamed) and a fictional classifieds site from a local server, writes a
demo kyran.toml pointing at it, crawls both into a fresh SQLite store (every post scored, repeats
clustered, candidates queued, named channels discovered), and shows the sources, the queue and
the top candidate with its evidence. Nothing leaves this machine.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click

from crawler.fixtures.market import FakeMarket, market_target
from crawler.fixtures.server import FixtureServer
from crawler.fixtures.tme_pages import FakeChannel, FakePost
from crawler.fixtures.tme_world import FakeTelegram

SHOP_POSTS = [
    "🔥 Мефедрон VHQ в наличии 🔥\n1г — 15 000 тг, 2г — 27 000 тг\n"
    "Клады по Алматы: магнит, прикоп\nЗаказ через бота @kristall_demo_bot, оплата BTC / USDT",
    "Альфа-PVP (соль) 0.5 — 9 000 тг. Мастер-клад от 10г. Оператор: @kristall_demo_op",
    "Отзывы покупателей в чате, гарант на каждый клад. Прайс обновлён ⬇️",
    "Шишки АК-47, гашиш евро. Доставка за 30 минут, координаты после оплаты.",
]
RECRUIT_POSTS = [
    "Работа для всех от 16 лет! Курьер-закладчик, оплата каждый день до 50 000 тг. "
    "Без опыта, обучение. Залог 20 000. Пиши @rabota_demo_hr",
    "Курьер керек! Тәжірибе қажет емес, төлем күн сайын. Жаз: @rabota_demo_hr",
    "Ищем склад-фасовщиков и трафаретчиков, лёгкие деньги, выплаты в USDT.",
]
NEWS_POSTS = [
    "В Алматы задержан курьер интернет-магазина наркотиков: изъято 200 граммов мефедрона. "
    "Возбуждено уголовное дело, сообщает МВД.",
    "Профилактика: родители, обращайте внимание на «лёгкую работу» для подростков в Telegram. "
    "Горячая линия 102.",
    "Суд вынес приговор организатору сети закладок — 12 лет лишения свободы.",
]


def demo_world(base_url: str) -> FakeTelegram:
    world = FakeTelegram.generate(seed=11, channels=6, posts_per_channel=45, base_url=base_url)
    start = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)

    def posts(texts: list[str], views: int) -> list[FakePost]:
        return [FakePost(i + 1, start + timedelta(hours=5 * i), text, views=views + 37 * i)
                for i, text in enumerate(texts * 3)]

    world.add_channel(FakeChannel("kristall_demo_shop", 1900000001, "💎 KRISTALL KZ 💎",
                                  "Магазин 24/7. Бот: @kristall_demo_bot. Прайс в закрепе.",
                                  subscribers=4870), posts(SHOP_POSTS, 610))
    world.add_channel(FakeChannel("rabota_demo_kz", 1900000002, "Работа Алматы | Быстрые деньги",
                                  "Работа для молодёжи, выплаты каждый день",
                                  subscribers=12650), posts(RECRUIT_POSTS, 880))
    world.add_channel(FakeChannel("almaty_demo_news", 1900000003, "Алматы Новости",
                                  "Новости города", subscribers=215000, verified=True),
                      posts(NEWS_POSTS, 950))
    return world


def _write_config(home: Path, server_url: str, channels: list[str]) -> Path:
    target = market_target(server_url)
    lines = [
        "# Written by `kyran demo`: a store and captures of this folder, a local fixture site.",
        '[store]\nurl = "sqlite:///kyran.sqlite"\ncaptures_dir = "captures"\n',
        '[crawl]\ndownload_delay = 0\nautothrottle = false\nlog_level = "WARNING"\n'
        "concurrent_requests = 16\nconcurrent_requests_per_domain = 8\n",
        f'[telegram_preview]\nbase_url = "{server_url}"\nchannels = {channels!r}\n'.replace(
            "'", '"'),
        "[sites.bazar]",
    ]
    for key, value in target.items():
        literal = repr(value).replace("'", '"') if not isinstance(value, str) else f"'{value}'"
        lines.append(f"{key} = {literal}")
    path = home / "kyran.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


MARKER = ".kyran-demo"


def _fresh(home: Path) -> None:
    """Empty the demo's own folder; refuse any other non-empty folder (it may hold evidence)."""
    if home.exists() and any(home.iterdir()) and not (home / MARKER).exists():
        raise click.ClickException(
            f"{home} is not empty and was not made by `kyran demo`: choose another --home "
            "(the demo deletes its store and captures on every run)")
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by kyran demo; its store and captures are rebuilt on "
                               "every run\n", encoding="utf-8")
    for name in ("kyran.sqlite", "kyran.sqlite-wal", "kyran.sqlite-shm"):
        (home / name).unlink(missing_ok=True)
    captures = home / "captures"
    if captures.exists():
        for warc in sorted(captures.rglob("*.warc.gz")):
            warc.unlink()


def _kyran(config: Path, *args: str) -> None:
    command = [sys.executable, "-m", "crawler", "--config", str(config), *args]
    click.secho("$ kyran " + " ".join(args), fg="cyan")
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise click.ClickException(f"`kyran {' '.join(args)}` failed (exit {result.returncode})")


def explore_hints(config: Path) -> list[str]:
    """Commands to try next, each a whole shell line (the path quoted as a shell needs)."""
    prefix = f"kyran --config {shlex.quote(str(config))}"
    return [f"{prefix} {args}" for args in (
        "queue --category recruitment", "entity @kristall_demo_bot", "watchlist", "capture 1")]


def run_demo(home: Path, keep_serving: bool = False) -> None:
    home = home.absolute()
    _fresh(home)
    market = FakeMarket(ads=45)
    world: FakeTelegram | None = None

    def handler(method: str, target: str, headers: dict[str, str]):
        if target.startswith("/market") or target == "/robots.txt":
            return market.answer(target)
        status, answer_headers, body = world.handle(target)
        return status, list(answer_headers.items()), body

    with FixtureServer(handler) as server:
        world = demo_world(server.url)
        channels = [c.username for c in world.channels] + list(world.former_usernames)
        config = _write_config(home, server.url, channels)
        click.secho(f"Fixture site at {server.url}; demo store in {home}", bold=True)
        _kyran(config, "crawl", "telegram")
        _kyran(config, "crawl", "site", "bazar")
        _kyran(config, "sources")
        _kyran(config, "posts", "--source", "kristall_demo_shop", "--limit", "5")
        _kyran(config, "queue")
        _kyran(config, "candidate", "1", "--posts", "2")
        click.echo("\nExplore (each line runs as pasted):")
        for hint in explore_hints(config):
            click.echo(f"  {hint}")
        if keep_serving:
            click.echo(f"Serving the fixture site at {server.url}; Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
