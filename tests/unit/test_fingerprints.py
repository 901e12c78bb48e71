"""Refactors change no byte of what users read (issue 7): the CLI's outputs match their digests."""

from __future__ import annotations

import json

from tests import fingerprints


def test_cli_outputs_match_the_recorded_fingerprints() -> None:
    expected = json.loads(fingerprints.FILE.read_text())
    actual = fingerprints.digests()
    changed = sorted(name for name in expected if actual.get(name) != expected[name])
    assert set(actual) == set(expected)
    assert changed == [], f"outputs changed for {changed}; regenerate only for a method change"
