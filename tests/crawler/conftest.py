"""A store the processing chain filled with a shop channel and a city chat whose title and posts
carry what a hostile page may plant: terminal control sequences and line breaks."""

import pytest

from pipelines.chain import ProcessingChain
from tests.conftest import write_config
from tests.pipelines.test_chain import NEWS, RECRUIT_AD, SHOP_AD, channel, post, shop_channel_items

WALLET = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"

# What a hostile page may put in a title or a post to rewrite an analyst's terminal: an OSC 8
# hidden link, an OSC 52 clipboard write, a C1 control, a right-to-left override.
HOSTILE = "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07\x9b\u202e"
CONTROL = ("\x1b", "\x07", "\x9b", "\u202e")
# And what forges a row or a line: every line break a terminal or str.splitlines() honours.
FORGE = "\n#9999  999  sale  open  forged\r\u2028forged\u2029forged\x85forged\x0bforged\x0c"
BREAKS = ("\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c")
CITY_TITLE = "Чат 🇰🇿 Қала" + HOSTILE + FORGE
SHOP_TITLE = "💎 KRISTALL 💎" + FORGE  # the shop channel is a candidate: its title is a subject


def fill(store, config_path) -> None:
    """Run the shop channel and the city chat through the processing chain into `store`."""
    from crawler.config import load_config

    chain = ProcessingChain(store, load_config(config_path, environ={}), "component:test")
    items = shop_channel_items()
    items[0] = channel("kristall_shop", 1, SHOP_TITLE, "Магазин 24/7. Бот: @kristall_kz_bot", 4800)
    items.append(post("kristall_shop", 9, SHOP_AD.format(price=7, bot="kristall_kz_bot") +
                      f"\nBTC: {WALLET}"))
    items += [channel("city_chat", 2, CITY_TITLE, "Общение", 50000)]
    items += [post("city_chat", i + 1, text) for i, text in enumerate(NEWS * 3)]
    items.append(post("city_chat", 99, RECRUIT_AD.format(hr="rabota_hr_kz") +
                      "\nПодробнее: https://rabota-fast.kz/join " + HOSTILE))
    chain.process(items)


@pytest.fixture
def filled(tmp_path, db_url, store):
    path = write_config(tmp_path / "kyran.toml", db_url)
    fill(store, path)
    return path
