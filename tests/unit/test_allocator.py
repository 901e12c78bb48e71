"""The allocator thresholds (``sloreco.allocator``): taken where the C library is glibc."""

import platform

from sloreco import allocator


def test_glibc_takes_both_thresholds_and_other_libraries_are_left_alone() -> None:
    # Twice: the operator's startup and a CLI call in one process must both succeed.
    glibc = platform.libc_ver()[0] == "glibc"
    assert (allocator.tune(), allocator.tune()) == (glibc, glibc)
