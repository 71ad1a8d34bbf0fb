"""`indicators.json`: the package's STIX 2.1 bundle, built with the `stix2` library and written
object by object (each object once, by id).

Each subject (the shop or recruiter) is a `threat-actor` (type criminal) created by the
exporting organisation's `identity`; its indicators are observables related to it by
`relationship` (related-to): Telegram channels, bots and handles as `user-account`
(account_type ``telegram``), links as `url`, hosts and onions as `domain-name`, wallets as the
custom observable `x-kyran-wallet` (currency, address; parse with ``allow_custom=True``). Phone
numbers are left out: they are personal data, and a blocking request has no use for them.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

import stix2
from stix2.properties import StringProperty

from evidence import names
from evidence.spool import Spool

NAMESPACE = uuid.UUID("3b1f6c2e-6a1d-4c55-9c2f-6b7e0f2d8a11")  # Kyran's, for stable ids
WALLETS = ("btc", "eth", "tron", "xmr")


@cache
def wallet_type():
    """The custom observable class, registered once with stix2 (on first use, not at import)."""

    @stix2.CustomObservable("x-kyran-wallet", [("currency", StringProperty(required=True)),
                                               ("address", StringProperty(required=True))],
                            id_contrib_props=["currency", "address"])
    class Wallet:
        pass

    return Wallet


def observables(kind: str, value: str) -> list:
    """The STIX observables standing for one indicator (none for phones)."""
    if kind in ("telegram_handle", "telegram_bot"):
        login = value.lstrip("@")
        return [stix2.UserAccount(account_type="telegram", account_login=login,
                                  is_service_account=kind == "telegram_bot")]
    if kind in ("telegram_link", "invite_link", "url"):
        url = value if "://" in value else f"https://{value}"
        found = [stix2.URL(value=url)]
        host = urlsplit(url).hostname
        if host and kind == "url":
            found.append(stix2.DomainName(value=host))
        return found
    if kind in ("domain", "onion"):
        return [stix2.DomainName(value=value)]
    if kind in WALLETS:
        return [wallet_type()(currency=kind, address=value)]
    return []


class StixWriter:
    """indicators.json, written as subjects and their indicators come."""

    def __init__(self, directory, organisation: str, organisation_id: str,
                 created: datetime) -> None:
        self.spool = Spool(directory, names.INDICATORS)
        self.created = created
        self._ids: set[str] = set()
        self._first = True
        self.skipped = 0
        # Bounded by the distinct indicators of the batch, not by its posts.
        self._observables: dict[tuple[str, str], list[str]] = {}
        self._related: set[tuple[str, str, str]] = set()
        bundle_id = f"bundle--{uuid.uuid4()}"
        self.spool.write(f'{{"id": "{bundle_id}", "objects": ['.encode())
        self.org = stix2.Identity(
            id=f"identity--{uuid.uuid5(NAMESPACE, 'org:' + organisation_id)}",
            name=organisation, identity_class="organization", created=created,
            modified=created)
        self._emit(self.org)
        self._stamp = json.loads(self.org.serialize())["created"]

    def _emit(self, obj) -> str:
        if obj.id not in self._ids:
            self._ids.add(obj.id)
            self.spool.write((b"" if self._first else b", ") + obj.serialize().encode("utf-8"))
            self._first = False
        return obj.id

    def subject(self, subject: dict) -> str:
        """The threat-actor of a subject (with its own account or URL); its STIX id."""
        key = f"{subject['platform']}:{subject['type']}:{subject['handle'] or subject['url']}"
        name = subject.get("title") or subject.get("handle") or subject.get("url") or key
        actor = stix2.ThreatActor(
            id=f"threat-actor--{uuid.uuid5(NAMESPACE, key)}", name=str(name)[:500],
            threat_actor_types=["criminal"], created=self.created, modified=self.created,
            created_by_ref=self.org.id,
            description=f"Confirmed {subject.get('category')} (candidate "
                        f"{subject['candidate_id']}, {subject['ref']})")
        self._emit(actor)
        own = []
        if subject["platform"] == "telegram" and subject["type"] == "source" and \
                subject.get("handle"):
            extra = {"user_id": str(subject["numeric_id"])} if subject.get("numeric_id") else {}
            own.append(stix2.UserAccount(account_type="telegram",
                                         account_login=subject["handle"],
                                         display_name=subject.get("title") or None, **extra))
        elif subject.get("url"):
            own.append(stix2.URL(value=subject["url"]))
        for observable in own:
            self._relate(actor.id, observable, "the subject itself")
        return actor.id

    def indicator(self, actor_id: str, kind: str, value: str) -> None:
        """Relate one indicator to a subject (each pair once; each observable built once)."""
        if (actor_id, kind, value) in self._related:
            return
        self._related.add((actor_id, kind, value))
        key = (kind, value)
        if key not in self._observables:
            try:
                found = observables(kind, value)
            except (stix2.exceptions.STIXError, ValueError):
                found = []  # a value STIX refuses is left out (it stays in posts.csv)
                self.skipped += 1
            self._observables[key] = [self._emit(o) for o in found]
        for observable_id in self._observables[key]:
            self._relation(actor_id, observable_id, f"{kind} found in its evidence")

    def _relate(self, actor_id: str, observable, description: str) -> None:
        self._relation(actor_id, self._emit(observable), description)

    def _relation(self, actor_id: str, observable_id: str, description: str) -> None:
        """A relationship, written as stix2 would serialise it: built by hand, as there is one
        per subject and indicator and the library takes milliseconds to validate each (the
        tests parse every bundle with stix2)."""
        rel_id = f"relationship--{uuid.uuid5(NAMESPACE, actor_id + '|' + observable_id)}"
        if rel_id in self._ids:
            return
        self._ids.add(rel_id)
        self.spool.write(b", " + json.dumps({
            "type": "relationship", "spec_version": "2.1", "id": rel_id,
            "created_by_ref": self.org.id, "created": self._stamp, "modified": self._stamp,
            "relationship_type": "related-to", "description": description,
            "source_ref": actor_id, "target_ref": observable_id},
            ensure_ascii=False).encode("utf-8"))

    def finish(self) -> Spool:
        self.spool.write(b'], "type": "bundle"}')
        self.spool.close()
        return self.spool


def parse_bundle(data: bytes):
    """The bundle as stix2 objects (raises on an invalid one)."""
    wallet_type()
    return stix2.parse(json.loads(data), allow_custom=True)
