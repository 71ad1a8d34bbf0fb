"""Package members written to temporary files while a batch is collected, each hashed (SHA-256)
and measured as it is written, so the ZIP is assembled afterwards without reading a member
twice and without holding one in memory."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


class Spool:
    """A member being written: binary `write`, text `line`s, or JSON `record`s (one a line)."""

    def __init__(self, directory: Path, name: str) -> None:
        self.name = name  # the entry name in the package
        self.path = Path(directory) / name.replace("/", "__")
        self._file = open(self.path, "wb")
        self._hash = hashlib.sha256()
        self.size = 0
        self.count = 0

    def write(self, data: bytes) -> int:
        """Append bytes; the offset they start at."""
        offset = self.size
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)
        self.count += 1
        return offset

    def line(self, text: str) -> None:
        self.write(text.encode("utf-8") + b"\n")

    def record(self, value: object) -> None:
        self.line(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def entry(self) -> dict:
        """The manifest's `files` entry."""
        self.close()
        return {"path": self.name, "sha256": self.sha256, "size": self.size}

    def records(self):
        """Read back what `record` wrote, one value at a time."""
        self.close()
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)
