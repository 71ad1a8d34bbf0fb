"""Detection: normalise obfuscated text, extract indicators, score with explainable rules.

No dependency on Scrapy or the store. Build a :class:`detection.scorer.Detector` once with
``Detector.from_config(DetectionConfig(...))`` and call ``score(text)`` per post and
``score_source(...)`` per channel, bot or site.
"""
