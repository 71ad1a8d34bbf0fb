"""Fixtures of the chain tests: a configuration for the store under test."""

import pytest

from crawler.config import load_config


@pytest.fixture
def config(tmp_path, db_url):
    path = tmp_path / "kyran.toml"
    path.write_text(f'[store]\nurl = "{db_url}"\ncaptures_dir = "captures"\n'
                    "[discovery]\nmax_depth = 2\nmax_new_per_run = 50\n")
    return load_config(path, environ={})
