"""Shared pytest configuration: fixtures for the real components live in ``tests/fixtures``."""

pytest_plugins = [
    "tests.fixtures.prometheus",
    "tests.fixtures.controlplane",
    "tests.fixtures.operator",
]
