"""The processing chain and its Scrapy item-pipeline adapters."""
