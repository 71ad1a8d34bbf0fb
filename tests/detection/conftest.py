"""Fixtures for the detection tests: one rules-alone detector on the bundled lexicons, the
labelled sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from detection.config import DetectionConfig
from detection.scorer import Detector

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def detector() -> Detector:
    return Detector.from_config(DetectionConfig(rules_only=True))  # the rules, without a model


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
