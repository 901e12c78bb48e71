"""The operator configuration file (``sloreco.settings``): the analysis threads it sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloreco import errors, settings


def load(tmp_path: Path, text: str) -> settings.Settings:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return settings.load({"SLORECO_CONFIG": str(path)})


def test_the_engine_runs_on_one_thread_unless_configured(tmp_path: Path) -> None:
    assert [
        load(tmp_path, "{}").analysis_threads,
        load(tmp_path, "analysisThreads: 3\n").analysis_threads,
    ] == [1, 3]


@pytest.mark.parametrize("value", ["0", "-2", "1.5", "two", "true"])
def test_analysis_threads_below_one_or_not_whole_are_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(errors.InputError, match="analysisThreads") as caught:
        load(tmp_path, f"analysisThreads: {value}\n")
    assert "at least 1" in str(caught.value)
