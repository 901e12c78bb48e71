"""Shared pytest configuration: fixtures for the real components live in ``tests/fixtures``."""

import hypothesis

from sloreco import allocator

pytest_plugins = [
    "tests.fixtures.prometheus",
    "tests.fixtures.controlplane",
    "tests.fixtures.operator",
]

# The test command is a merge gate: the same commit must pass or fail the same way every time, so
# Hypothesis draws its examples from a fixed seed (derandomize) and never fails on wall-clock
# deadlines (CI shares two cores with real servers). Run with --hypothesis-profile=explore to
# search new examples locally.
hypothesis.settings.register_profile("gate", derandomize=True, deadline=None)
hypothesis.settings.register_profile("explore", deadline=None)
hypothesis.settings.load_profile("gate")

# The engine runs here as in the operator and the CLI: numpy's temporaries stay mapped.
allocator.tune()
