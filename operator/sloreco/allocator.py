"""glibc's allocator thresholds, set once per process so numpy's temporaries stay mapped.

A recommendation allocates and frees numpy temporaries of 0.1-5 MB a few hundred times (the
pseudo-histories' windows: 128 x 500 values, and per histogram bound for latency). With glibc's
defaults each of them page-faults in afresh: a block above the mmap threshold (128 KiB, raised
as blocks are freed) is a fresh mapping, and a heap top freed above the trim threshold goes back
to the kernel. Measured on the bench's 90-day history (``getrusage`` minor faults per
recommendation; CPU, fastest of 25): availability 1,500 faults and 15.2 ms, latency 1,100 faults
and 20.7 ms; with the thresholds below, under one fault and 13.2 ms / 18.1 ms. The faults are
the kernel's time, and a VM's page faults are dear.

Both thresholds, always together: setting either one turns off glibc's dynamic threshold and
leaves the other at its default, which measured worse than neither (3,800 faults).

The cost is memory the process keeps: free heap up to the trim threshold is not returned, so a
process holds the peak of one recommendation's temporaries (a few MB to tens of MB) between
recommendations instead of giving it back after each (``make bench`` measures the operator's
resident memory with it set). Called by the operator's startup, the CLI and the benchmarks; a
C library that is not glibc (musl, macOS) is left as it is.
"""

from __future__ import annotations

import ctypes
import logging

logger = logging.getLogger(__name__)

#: ``mallopt`` parameters, from glibc's ``malloc.h``.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks up to this size come from the heap. The largest temporary of a recommendation is
#: latency's ``(outer, inner, bounds)`` array, 128 x 500 x 10 doubles = 5 MB; 32 MiB (glibc's
#: ceiling for the dynamic threshold) measured the same as 8 MiB.
MMAP_THRESHOLD = 8 * 1024 * 1024
#: Free memory at the heap's top kept rather than trimmed: above a recommendation's peak.
TRIM_THRESHOLD = 64 * 1024 * 1024


def tune() -> bool:
    """Set both thresholds; True if glibc took them, False where there is no glibc."""
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    took = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    if not took:
        logger.warning("glibc refused the malloc thresholds; numpy's temporaries fault in anew.")
    return took
