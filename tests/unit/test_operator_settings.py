"""The operator configuration file (``sloreco.settings``): the analysis threads it sets, and
where the engine runs for each (``controller.context.executor``)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from sloreco import errors, settings
from sloreco.controller import context


def load(tmp_path: Path, text: str) -> settings.Settings:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return settings.load({"SLORECO_CONFIG": str(path)})


def test_the_engine_runs_on_the_event_loop_unless_configured(tmp_path: Path) -> None:
    assert [
        load(tmp_path, "{}").analysis_threads,
        load(tmp_path, "analysisThreads: 3\n").analysis_threads,
    ] == [0, 3]


@pytest.mark.parametrize("value", ["-1", "1.5", "two", "true"])
def test_analysis_threads_below_zero_or_not_whole_are_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(errors.InputError, match="analysisThreads") as caught:
        load(tmp_path, f"analysisThreads: {value}\n")
    assert "at least 0" in str(caught.value)


def test_the_fleet_is_relearned_every_ten_minutes_unless_configured(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("fleetLearnInterval: 2m\n")
    assert [
        load(tmp_path, "{}").fleet_learn_seconds,
        load(tmp_path, "fleetLearnInterval: 2m\n").fleet_learn_seconds,
        settings.load(
            {"SLORECO_CONFIG": str(path), "SLORECO_FLEET_LEARN_INTERVAL": "5"}
        ).fleet_learn_seconds,
    ] == [600.0, 120.0, 5.0]


@pytest.mark.parametrize(
    ("env", "text", "field"),
    [
        ({"SLORECO_FLEET_LEARN_INTERVAL": "soon"}, "{}", "SLORECO_FLEET_LEARN_INTERVAL"),
        ({"SLORECO_FLEET_LEARN_INTERVAL": "0"}, "{}", "SLORECO_FLEET_LEARN_INTERVAL"),
        ({}, "fleetLearnInterval: often\n", "fleetLearnInterval"),
    ],
)
def test_a_fleet_learn_interval_that_is_no_duration_is_refused_by_name(
    tmp_path: Path, env: dict[str, str], text: str, field: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(errors.InputError) as caught:
        settings.load({"SLORECO_CONFIG": str(path), **env})
    assert caught.value.field == field


def test_zero_threads_run_the_engine_on_the_calling_thread() -> None:
    ran_on: list[int] = []

    async def main() -> int:
        loop = asyncio.get_running_loop()
        on_loop = context.executor(0)
        await loop.run_in_executor(on_loop, lambda: ran_on.append(threading.get_ident()))
        return threading.get_ident()

    assert ran_on == [asyncio.run(main())]


def test_an_engine_error_on_the_loop_reaches_the_awaiting_pass() -> None:
    def fail() -> None:
        raise errors.InputError("bad", field="x")

    async def main() -> None:
        await asyncio.get_running_loop().run_in_executor(context.executor(0), fail)

    with pytest.raises(errors.InputError, match="bad"):
        asyncio.run(main())
