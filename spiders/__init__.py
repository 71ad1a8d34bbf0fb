"""Kyran's Scrapy spiders: `telegram_preview` (t.me/s pages) and `site` (configured targets)."""
