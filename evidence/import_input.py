"""What an imported package says, as typed records: the manifest's subjects and items, the rows
of posts.jsonl, and the JSON lines of the capture files. A package that verifies is still the
sender's text: every field is checked (types, lengths, refs) before it reaches the store, and
the first that is wrong refuses the package in one line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ImportRefused(Exception):
    """The package was not imported; `problems` are one line each (nothing was written)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    """Unknown fields are ignored (a later format may add some); strings are bounded."""

    model_config = ConfigDict(extra="ignore", str_max_length=100_000)


class SubjectIn(_Strict):
    ref: str = Field(pattern=r"^S[1-9][0-9]{0,17}$")
    candidate_id: int | None = None
    type: Literal["source", "entity", "post"]
    platform: Literal["telegram", "web"] | None = None
    handle: str | None = Field(None, max_length=255)
    title: str | None = None
    url: str | None = None
    numeric_id: int | None = None
    category: str | None = Field(None, max_length=16)
    decision: dict | None = None
    items: list[str] = []


class CaptureIn(_Strict):
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str = ""
    captured_at: datetime | None = None
    http_status: int | None = None
    component_version: str | None = None
    offset: int | None = Field(None, ge=0)
    length: int | None = Field(None, ge=1)
    line: int | None = Field(None, ge=1)


class ItemIn(_Strict):
    ref: str = Field(pattern=r"^P[1-9][0-9]{0,17}$")
    subject: str
    capture: CaptureIn | None = None


class RowIn(_Strict):
    ref: str
    url: str = Field(max_length=4096)
    channel: str | None = Field(None, max_length=255)
    post_id: int | str
    posted_at: datetime | None = None
    text: str = ""
    views: int | None = None
    indicators: str = ""
    verdict: str | None = Field(None, max_length=16)
    score: float | None = None


def parse(model, value, where: str):
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise ImportRefused([f"{where}: {place}: {first['msg']}"]) from None


def json_lines(path: Path, name: str):
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    raise ImportRefused([f"{name} line {number} is not JSON"]) from None
