"""The systemd units of deploy/systemd: the hardening the README promises is there, the stop
timeout leaves the daemon its shutdown grace, and `systemd-analyze verify` (where systemd is
installed) accepts them without a warning."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys

import pytest

from crawler.config_base import parse_interval
from crawler.config_daemon import DaemonConfig
from tests.conftest import REPO

UNITS = REPO / "deploy" / "systemd"
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
             "PrivateTmp": "yes", "User": "kyran", "StateDirectory": "kyran",
             "ReadWritePaths": "/var/lib/kyran", "CapabilityBoundingSet": "",
             "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
             "SystemCallFilter": "@system-service", "KillSignal": "SIGTERM",
             "Restart": "on-failure"}


def service(name: str) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       comment_prefixes=("#", ";"))
    parser.optionxform = str
    parser.read(UNITS / name)
    return dict(parser["Service"])


@pytest.mark.parametrize("name,command", [("kyran.service", "kyran run"),
                                          ("kyran-web.service", "kyran serve")])
def test_units_are_hardened(name, command):
    unit = service(name)
    for key, value in HARDENING.items():
        assert unit.get(key) == value, (name, key)
    assert unit["ExecStart"].endswith(command)


def test_stop_timeout_leaves_the_daemon_its_shutdown_grace():
    stop = parse_interval(service("kyran.service")["TimeoutStopSec"])
    assert stop > DaemonConfig().shutdown_grace + 30


@pytest.mark.parametrize("name", ["kyran.service", "kyran-web.service"])
def test_systemd_analyze_accepts_the_units(tmp_path, name):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # no systemd here: the parsed checks above still ran
        return
    text = (UNITS / name).read_text()
    # verify checks that ExecStart's program exists: point it at this Python.
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={sys.executable}", text, flags=re.M)
    copy = tmp_path / name
    copy.write_text(text)
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
