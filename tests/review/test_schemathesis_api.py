"""Fuzz the JSON API from its own OpenAPI schema (schemathesis, in-process ASGI) on a small
seeded SQLite store, authenticated with a lead's token: no 500s, and every response matches the
schema (status code, content type, body). Bounded and derandomized, so CI never flakes."""

from __future__ import annotations

import contextlib
import os

import fastapi.routing
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from crawler.config import load_config
from evidence import keys
from tests.conftest import POSTGRES, postgres_schema, write_config
from tests.review.conftest import make_user
from tests.review.test_api_support import seed, token_for

CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance,
          content_type_conformance, response_schema_conformance]
# Per operation and generation mode (schema-valid and schema-invalid data); raise it to fuzz
# deeper by hand (KYRAN_FUZZ_EXAMPLES=500), CI keeps the bounded default.
EXAMPLES = int(os.environ.get("KYRAN_FUZZ_EXAMPLES", "20"))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    """The app on a seeded SQLite store, and a lead's token."""
    where = tmp_path_factory.mktemp("fuzz")
    with contextlib.ExitStack() as stack:
        url = f"sqlite:///{where}/kyran.sqlite"
        if os.environ.get("KYRAN_FUZZ_BACKEND") == "postgresql":  # by hand; CI fuzzes SQLite
            url = f"{POSTGRES}?options=-csearch_path%3D{stack.enter_context(postgres_schema())}"
        yield from _fuzzed(where, url)


def _fuzzed(where, url):
    from crawler.store.db import open_store
    from review.app import create_app

    config = load_config(str(write_config(
        where / "kyran.toml", url, f'\n[review]\nsecret_key_file = "{where}/secret.key"\n')))
    keys.generate(config.resolve(config.evidence.signing_key_file))  # exports reach selection
    store = open_store(url)
    make_user(store, "leon", "lead", "lead-password-22")
    make_user(store, "anna", "analyst", "analyst-password-1")
    seed(store, candidates=8)
    token = token_for(store, "leon")
    yield create_app(config, store), token
    store.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzzed):
    app, token = fuzzed
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app,
                                            headers={"Authorization": f"Bearer {token}"})
    return schema.include(path_regex="^/api/")


OPERATIONS = [
    ("GET", "/api/queue"), ("GET", "/api/queue/counts"), ("GET", "/api/candidates/{candidate_id}"),
    ("POST", "/api/candidates/{candidate_id}/decision"), ("POST", "/api/take-next"),
    ("POST", "/api/bulk-decision"), ("GET", "/api/entities/{kind}/{value}"),
    ("GET", "/api/sources"), ("POST", "/api/sources"), ("POST", "/api/sources/{source_id}/pause"),
    ("POST", "/api/sources/{source_id}/resume"), ("POST", "/api/exports"),
    ("GET", "/api/packages"), ("POST", "/api/packages")]


NO_INPUT = {("GET", "/api/queue/counts")}  # nothing to send wrong: schema-valid data only
CASES = [pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
         for method, path in OPERATIONS
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if not (mode is GenerationMode.NEGATIVE and (method, path) in NO_INPUT)]


@pytest.mark.parametrize("method,path,mode", CASES)
def test_api_never_fails_and_matches_its_schema(fuzzed, api_schema, method, path, mode):
    _app, token = fuzzed
    auth = {"Authorization": f"Bearer {token}"}
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def fuzz(case):
        response = case.call_and_validate(headers=auth, checks=CHECKS)
        assert response.status_code != 401, "the lead's token was not taken"
        seen.add(response.status_code)

    seen: set[int] = set()
    fuzz()
    if mode is GenerationMode.POSITIVE and method == "GET" and "{" not in path:
        assert seen & {200}, f"no success among {sorted(seen)}"  # the fuzz reached the store


def test_the_schema_describes_every_api_route(fuzzed, api_schema):
    app, _token = fuzzed
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    flat = list(flatten(app.routes)) if flatten else list(app.routes)
    routes = {(method, route.path.replace(":path", "")) for route in flat
              if route.path.startswith("/api/") and getattr(route, "include_in_schema", False)
              for method in route.methods}
    described = {(op.method.upper(), op.path) for op in
                 (result.ok() for result in api_schema.get_all_operations())}
    assert described == routes == set(OPERATIONS)
