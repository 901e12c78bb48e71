"""The peers' own tools in ``bin/`` (``make sloth prometheus3 oslo helm peer-crds``), for tests.

A missing tool fails the test with the make target that builds it, never skips: a skipped check
by a peer's validator reads like a passing one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN_DIR = REPO_ROOT / "bin"
CRDS_DIR = BIN_DIR / "crds"

#: Binary (or CRD file under bin/crds) -> the make target that provides it.
TARGETS = {
    "sloth": "sloth",
    "promtool3": "prometheus3",
    "oslo": "oslo",
    "helm": "helm",
    "kubectl": "controlplane",
    "monitoring.coreos.com_prometheusrules.yaml": "peer-crds",
    "monitoring.coreos.com_servicemonitors.yaml": "peer-crds",
    "sloth.slok.dev_prometheusservicelevels.yaml": "peer-crds",
}


def tool(name: str) -> Path:
    """``bin/<name>``, or fail naming ``make <target>``."""
    path = BIN_DIR / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make {TARGETS[name]}`", pytrace=False)
    return path


def crd(name: str) -> Path:
    """``bin/crds/<name>``, or fail naming ``make peer-crds``."""
    path = CRDS_DIR / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make {TARGETS[name]}`", pytrace=False)
    return path


def run(name: str, *args: str | Path, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``bin/<name> args``; the caller asserts on the return code and output."""
    return subprocess.run(
        [str(tool(name)), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
