"""Fingerprints of what users read: the CLI's table, JSON and YAML over a fixed set of histories.

A refactor must not change a byte of output (issue 7). ``digests()`` runs ``sloreco recommend``
in-process on the synthetic services of every ``sources.synth`` profile (90 days, both SLIs) with
several flag sets and returns a SHA-256 per case; ``tests/testdata/fingerprints.json`` holds the
digests the current method gives. A change of method that *means* to change numbers regenerates
the file (``python -m tests.fingerprints --write``) and says so in its commit message.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

from sloreco.cli import main as cli
from sloreco.sources import synth, synthseries
from tests import factories

FILE = Path(__file__).parent / "testdata" / "fingerprints.json"
END = 1717200000  # 2024-06-01T00:00:00Z, bucket-aligned
DAYS = 90
FLAGS: dict[str, list[str]] = {
    "default": [],
    "window-7d": ["--window", "7d"],
    "p95-14d": ["--percentile", "95", "--window", "14d"],
    "objective": ["--objective-availability", "99.9", "--objective-latency", "0.5@99"],
}
OUTPUTS = ("table", "json", "yaml")


def _input(profile: str, directory: Path) -> Path:
    service = synth.Service(name=f"fp-{profile}", profile=profile)
    data = synth.generate(service, synth.Timeline(end=END, days=DAYS))
    start = END - DAYS * 86400
    document = factories.cli_input_document(
        availability=synthseries.availability_history(
            data, start=start, end=END, bucket_seconds=3600
        ),
        latency=synthseries.latency_history(data, start=start, end=END, bucket_seconds=3600),
    )
    path = directory / f"{profile}.json"
    path.write_text(json.dumps(document))
    return path


def _run(argv: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return f"exit={code}\n--stdout--\n{out.getvalue()}--stderr--\n{err.getvalue()}"


def digests() -> dict[str, str]:
    """Case name -> SHA-256 of the exit code, stdout and stderr of that ``sloreco recommend``."""
    result: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for profile in synth.PROFILES:
            if profile == "no-data":
                continue
            path = _input(profile, Path(tmp))
            for flags_name, flags in FLAGS.items():
                for output in OUTPUTS:
                    argv = ["recommend", "--input", str(path), "--output", output, *flags]
                    text = _run(argv).replace(str(path), "<input>")
                    digest = hashlib.sha256(text.encode()).hexdigest()
                    result[f"{profile}/{flags_name}/{output}"] = digest
    return result


if __name__ == "__main__":
    computed = digests()
    if "--write" in sys.argv:
        FILE.write_text(json.dumps(computed, indent=1, sort_keys=True) + "\n")
    json.dump(computed, sys.stdout, indent=1, sort_keys=True)
