"""The manifest of an evidence package: its canonical bytes, and the chain of custody of each
evidence item (docs/evidence-package.md).

Canonical bytes are ``json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False)`` in
UTF-8. The subjects and items of a large batch are spooled to files while collected, and
`assemble` writes the same bytes as dumping the whole object would, one element at a time.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from typing import Iterable

FORMAT = "kyran-evidence-package"
FORMAT_VERSION = 1


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # the store keeps UTC; SQLite may hand a naive one back
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8")


def _array(elements: Iterable[object]) -> str:
    parts = []
    for element in elements:
        text = json.dumps(element, sort_keys=True, indent=1, ensure_ascii=False)
        parts.append("\n".join("  " + line for line in text.split("\n")))
    return "[\n" + ",\n".join(parts) + "\n ]" if parts else "[]"


def assemble(head: dict, arrays: dict[str, Iterable[object]]) -> bytes:
    """The canonical bytes of ``{**head, **arrays}``, each array streamed from its iterable
    (a JSON string never holds a raw newline, so re-indenting line by line is exact)."""
    token = secrets.token_hex(8)  # no string in the head can hold the placeholder by chance
    marks = {key: f"\x00{key}-{token}\x00" for key in arrays}
    text = json.dumps({**head, **marks}, sort_keys=True, indent=1, ensure_ascii=False)
    for key, mark in marks.items():
        placeholder = json.dumps(mark)
        before, found, after = text.partition(placeholder)
        if not found:
            raise AssertionError(f"placeholder of {key} lost")
        text = before + _array(arrays[key]) + after
    return text.encode("utf-8")


def custody(*, capture: dict | None, captured_by: str, organisation: str,
            origin: list[dict], decision: dict | None, exported_at: str, exporter: str,
            package_id: str) -> list[dict]:
    """The steps an item went through, oldest first: captured (by the component, in the first
    organisation that held it), imported (once per exchange: from whom, which package, their
    decision), reviewed here (when this organisation decided), exported now."""
    first_org = origin[0]["organisation"] if origin else organisation
    steps = []
    if capture is not None:
        steps.append({"at": capture.get("captured_at"), "action": "captured",
                      "by": captured_by, "organisation": first_org,
                      "url": capture.get("url"), "http_status": capture.get("http_status"),
                      "sha256": capture.get("sha256")})
    for step in origin:
        steps.append({"at": step.get("at"), "action": "imported", "by": "kyran import",
                      "organisation": organisation, "from": step["organisation"],
                      "package_id": step.get("package_id"), "decision": step.get("decision")})
    if decision is not None and decision.get("by"):
        steps.append({"at": decision.get("at"), "action": "reviewed", "by": decision["by"],
                      "organisation": organisation, "decision": "confirm",
                      "policy": decision.get("policy"), "category": decision.get("category")})
    steps.append({"at": exported_at, "action": "exported", "by": exporter,
                  "organisation": organisation, "package_id": package_id})
    return steps
