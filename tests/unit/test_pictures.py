"""``--plot`` and ``sloreco report --html``: the files exist, are what they claim, are
deterministic, and bad names fail before the analysis (exit 2, one line).

The picture was looked at (README "Pictures"); here only what a machine can check: format,
size, the words a reader needs (title, units, tiers, legend entries) and the same bytes twice.
"""

from __future__ import annotations

import json
import pathlib
import struct

import pytest

from sloreco.cli import main as cli

INPUT = str(
    pathlib.Path(__file__).resolve().parents[1] / "testdata" / "checkout-incidents-10d.json"
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_png_is_a_png_of_the_documented_size_and_the_same_bytes_twice(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    for path in (first, second):
        code, out, _ = _run(capsys, "recommend", "--input", INPUT, "--plot", str(path))
        assert code == 0
        assert "pages / 28d" in out  # the table is still printed
    data = first.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1100
    assert 900 < height < 1200  # two panels and their tables
    assert data == second.read_bytes()


def test_svg_says_what_a_reader_needs(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "p.svg"
    code, out, _ = _run(
        capsys, "recommend", "--input", INPUT, "--service", "checkout", "--plot", str(path),
        "--output", "json",
    )  # fmt: skip
    assert code == 0
    balanced = json.loads(out)["recommendations"][0]["tiers"][1]["target"]
    text = path.read_text(encoding="utf-8")
    for words in (
        "SLO recommendation for checkout",
        "percent good",
        "time (UTC)",
        f"balanced {balanced}%",  # a tier line's legend entry
        "incident",
        "pages / 28d",
        "rolling 1d",
    ):
        assert f"<!-- {words}" in text or words in text, words
    assert "<dc:date>" not in text  # no timestamp: same input, same bytes


def test_report_writes_one_page_with_the_picture_and_the_tables(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "r.html"
    code, _, _ = _run(capsys, "report", "--input", INPUT, "--html", str(path))
    assert code == 0
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 1
    assert "<script" not in page
    assert page.count("<pre>") == 2
    assert "backtest misses" in page
    assert "≤ 1.0s" in page


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("recommend", "--plot", "x.jpg"), "sloreco: --plot: use a .png or .svg file name"),
        (("report",), "sloreco: --html: sloreco report needs --html FILE"),
        (("recommend", "--plot", "/nonexistent/dir/p.png"), "sloreco: --plot: cannot write"),
    ],
)
def test_bad_picture_flags(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: str
) -> None:
    code, out, err = _run(capsys, *argv[:1], "--input", INPUT, *argv[1:])
    assert (code, out) == (2, "")
    assert err.startswith(expected)
    assert err.count("\n") == 1
