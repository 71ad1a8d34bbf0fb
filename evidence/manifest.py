"""The manifest of an evidence package: its canonical bytes, and the chain of custody of each
evidence item (docs/evidence-package.md).

Canonical bytes are ``json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False)`` in
UTF-8. The subjects and items of a large batch are spooled to files while collected, and
`assemble` writes the same bytes as dumping the whole object would, one element at a time.
"""

from __future__ import annotations

import io
import json
import re
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


def _write_array(out, elements: Iterable[object]) -> None:
    first = True
    for element in elements:
        text = json.dumps(element, sort_keys=True, indent=1, ensure_ascii=False)
        out.write(("[\n" if first else ",\n") + "\n".join("  " + line
                                                        for line in text.split("\n")))
        first = False
    out.write("[]" if first else "\n ]")


def write_assembled(out, head: dict, arrays: dict[str, Iterable[object]]) -> None:
    """Write to the text stream `out` the canonical JSON of ``{**head, **arrays}``, each array
    streamed from its iterable (a JSON string never holds a raw newline, so re-indenting line
    by line is exact): memory holds one element at a time, never the whole manifest."""
    token = secrets.token_hex(8)  # no string in the head can hold the placeholder by chance
    marks = {key: f"\x00{key}-{token}\x00" for key in arrays}
    text = json.dumps({**head, **marks}, sort_keys=True, indent=1, ensure_ascii=False)
    placeholders = {json.dumps(mark): key for key, mark in marks.items()}
    pattern = "(" + "|".join(re.escape(p) for p in placeholders) + ")"
    for piece in re.split(pattern, text) if placeholders else [text]:
        if piece in placeholders:
            _write_array(out, arrays[placeholders[piece]])
        else:
            out.write(piece)


def assemble(head: dict, arrays: dict[str, Iterable[object]]) -> bytes:
    """The canonical bytes of ``{**head, **arrays}`` (see `write_assembled`)."""
    out = io.StringIO()
    write_assembled(out, head, arrays)
    return out.getvalue().encode("utf-8")


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
