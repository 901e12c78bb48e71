"""Moving-block bootstrap of days: simulated compliance windows, seeds, backtest origins.

Why a block bootstrap of *days*: an SLO is judged on a whole window (28 days, say), and errors
cluster — an incident spans hours or days. Resampling single days would break incidents apart
and make bad windows look rarer than they are; resampling blocks of consecutive days keeps them
together (Künsch 1989). Blocks wrap around the end of the history (the *circular* block
bootstrap of Politis & Romano 1992), so the first and last days are drawn as often as the rest.

Everything here is vectorised for one reason: the operator recomputes thousands of SLIs, and
the budget is a few milliseconds each (SPEC §6). Per-day values are summed into a cumulative
array once, so every block sum is two lookups; all block starts are drawn at once, as uniform
variates that every caller reuses (*common random numbers*): the tiers, the backtest at each
origin and the nested interval see the same draws, so their differences come from the data,
not from the dice — and a worse history can never produce a better target.

Randomness is always ``numpy.random.Generator(PCG64(seed))`` with a seed the caller derives from
stable inputs (``seed_from``), so the same inputs always give the same numbers (SPEC §3.1).
"""

from __future__ import annotations

import dataclasses
import hashlib
import typing

import numpy as np
import numpy.typing as npt

from sloreco.core import history

FloatArray = history.FloatArray
IntArray = npt.NDArray[np.intp]


def seed_from(*parts: str) -> int:
    """A 64-bit seed from stable strings (object uid, SLI, data end): SHA-256, first 8 bytes.

    Each part is length-prefixed, so ``("ab", "c")`` and ``("a", "bc")`` seed differently.
    """
    digest = hashlib.sha256()
    for part in parts:
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return int.from_bytes(digest.digest()[:8], "big")


def generator(seed: int) -> np.random.Generator:
    """The one random generator sloreco uses: PCG64, explicitly seeded."""
    return np.random.Generator(np.random.PCG64(seed))


def block_lengths(window_days: int, block_days: int) -> IntArray:
    """Lengths of the blocks that make one simulated window: full blocks, then the remainder."""
    count = -(-window_days // block_days)
    lengths = np.full(count, block_days, dtype=np.intp)
    lengths[-1] = window_days - block_days * (count - 1)
    return lengths


@dataclasses.dataclass(frozen=True, eq=False)
class Draws:
    """Uniform variates in ``[0, 1)`` from which every block start is derived.

    ``windows[k, r]`` places block ``k`` of simulated window ``r``; ``outer[k, o]`` places block
    ``k`` of pseudo-history ``o`` for the nested interval (blocks first: each block's starts are
    then contiguous, which the lookups need to be fast). A start in a pool of ``n`` days is
    ``floor(u * n)``, so pools of different lengths (backtest origins) reuse the same draws.
    """

    window_days: int
    block_days: int
    windows: FloatArray
    outer: FloatArray
    #: Pools shorter than this need more blocks per window than ``windows`` has rows.
    min_pool_days: int

    @classmethod
    def make(
        cls,
        *,
        seed: int,
        window_days: int,
        block_days: int,
        resamples: int,
        outer_resamples: int,
        min_pool_days: int,
        max_pool_days: int,
    ) -> Draws:
        """Draw once for the longest layout any pool between the two sizes can need."""
        rng = generator(seed)
        shortest_block = max(1, min(block_days, min_pool_days))
        windows = rng.random((-(-window_days // shortest_block), resamples))
        outer = rng.random((-(-max_pool_days // max(1, block_days)), outer_resamples))
        return cls(window_days, block_days, windows, outer, shortest_block)


#: Up to this many columns, block sums are gathered column by column (measured on numpy 2:
#: 10,000 windows of 2 columns in 0.25 ms, against 3.6 ms gathering rows of a 2-D array).
_FEW_COLUMNS = 16

#: Up to this many windows, one 2-D gather per block beats a gather per column and block
#: (measured: 1,000 windows of 12 columns in 0.10 ms against 0.23 ms; at 10,000, 1.3 against
#: 0.75 ms, once the 2-D buffers outgrow the allocator's heap and page-fault).
_FEW_WINDOWS = 2000

#: Wider arrays are summed in chunks of windows whose temporaries stay in the cache and on the
#: heap: under the mmap threshold the operator, the CLI and the benchmarks set
#: (``allocator.MMAP_THRESHOLD``), so no chunk is mapped fresh and page-faulted on every call
#: (at glibc's own 128 KiB threshold 256 KiB chunks measured 3x slower than 64 KiB ones).
#: With the threshold set, 256 KiB: the recommendation's 128 pseudo-histories x 500 windows
#: of 2 columns in 1.23 ms against 1.51 ms at 64 KiB; 2 MiB outgrew the cache (1.73 ms).
_CHUNK_BYTES = 256 * 1024

#: Every gather into an ``out`` array passes ``mode="clip"``: numpy buffers ``take``'s output
#: under its default ``mode="raise"`` (numpy.take's documentation), a copy of every chunk. The
#: starts are within the pool already (``_block_tables``), so clipping changes no value.
#: Measured: 128 pseudo-histories x 500 windows of 2 columns, 2.4 -> 0.38 ms.
_GATHER_MODE: typing.Final = "clip"


def window_sums(
    values: FloatArray, uniforms: FloatArray, *, window_days: int, block_days: int
) -> FloatArray:
    """Sums over simulated windows of ``values`` (days along axis 0, any columns after).

    ``uniforms`` is ``(blocks, windows)``; returns ``(windows, *values.shape[1:])``. Blocks are
    ``block_days`` long (at most the pool's length) and wrap around the pool's end.
    """
    flat = values.reshape(len(values), -1)
    windows = uniforms.shape[1]
    if flat.shape[1] <= _FEW_COLUMNS:
        by_column = column_sums(flat, uniforms, window_days=window_days, block_days=block_days)
        by_window: FloatArray = by_column.T.reshape(windows, *values.shape[1:])
        return by_window
    tables, lengths, starts = _block_tables(flat, uniforms, window_days, block_days)
    columns = flat.shape[1]
    rows = np.empty((windows, columns))
    step = max(1, _CHUNK_BYTES // (8 * columns))
    scratch = np.empty((step, columns))
    for lo in range(0, windows, step):
        acc, part = rows[lo : lo + step], scratch[: min(step, windows - lo)]
        np.take(tables[lengths[0]], starts[0, lo : lo + step], axis=0, out=acc, mode=_GATHER_MODE)
        for k in range(1, len(lengths)):
            np.take(
                tables[lengths[k]], starts[k, lo : lo + step], axis=0, out=part, mode=_GATHER_MODE
            )
            acc += part
    chunked: FloatArray = rows.reshape(windows, *values.shape[1:])
    return chunked


def column_sums(
    values: FloatArray, uniforms: FloatArray, *, window_days: int, block_days: int
) -> FloatArray:
    """``window_sums`` of a few columns, laid out ``(columns, windows)``.

    Columns first, because the callers then reduce across columns (a histogram's bounds), and
    numpy reduces fast across rows of contiguous windows but slowly along short rows.
    """
    tables, lengths, starts = _block_tables(values, uniforms, window_days, block_days)
    if starts.shape[1] <= _FEW_WINDOWS:
        by_column = {n: np.ascontiguousarray(t.T) for n, t in tables.items()}
        summed: FloatArray = np.empty((values.shape[1], starts.shape[1]))
        part = np.empty_like(summed)
        np.take(by_column[lengths[0]], starts[0], axis=1, out=summed, mode=_GATHER_MODE)
        for k in range(1, len(lengths)):
            np.take(by_column[lengths[k]], starts[k], axis=1, out=part, mode=_GATHER_MODE)
            summed += part
        return summed
    out = np.empty((values.shape[1], starts.shape[1]))
    for c in range(values.shape[1]):
        column = {n: np.ascontiguousarray(t[:, c]) for n, t in tables.items()}
        column[lengths[0]].take(starts[0], out=out[c], mode=_GATHER_MODE)
        for k in range(1, len(lengths)):
            out[c] += column[lengths[k]].take(starts[k])
    return out


def _block_tables(
    values: FloatArray, uniforms: FloatArray, window_days: int, block_days: int
) -> tuple[dict[int, FloatArray], list[int], IntArray]:
    """The sum of every possible block, per block length; the lengths; the block starts.

    One cumulative sum over the pool extended circularly, then two lookups per possible block
    (a window has at most two distinct block lengths): after this, a window costs one lookup
    per block, whatever the block length.
    """
    days = len(values)
    block = max(1, min(block_days, days))
    lengths = block_lengths(window_days, block).tolist()
    starts = np.minimum((uniforms[: len(lengths)] * days).astype(np.intp), days - 1)
    extended = np.concatenate([values, values[:block]])
    cumulative = np.zeros((days + block + 1, values.shape[1]))
    np.cumsum(extended, axis=0, out=cumulative[1:])
    first = np.arange(days)
    tables = {n: cumulative[first + n] - cumulative[first] for n in set(lengths)}
    return tables, lengths, starts


def pseudo_histories(days: int, uniforms: FloatArray, *, block_days: int) -> IntArray:
    """Day indices ``(outer, days)`` of circular-block-bootstrap replicates of a whole history.

    The nested interval recomputes a tier on each replicate: how far it moves is the
    uncertainty that comes from having seen only this much history.
    """
    block = max(1, min(block_days, days))
    count = -(-days // block)
    starts = np.minimum((uniforms[:count].T * days).astype(np.intp), days - 1)
    indices = (starts[:, :, None] + np.arange(block)) % days
    flat: IntArray = indices.reshape(uniforms.shape[1], count * block)[:, :days]
    return flat


def replicate_window_sums(
    pool: FloatArray, draws: Draws, *, inner: int, outer: int | None = None
) -> FloatArray:
    """Simulated window sums on each pseudo-history: shape ``(outer, inner, columns)``.

    The nested bootstrap: resample the history itself (``outer`` pseudo-histories, all of
    ``draws.outer`` by default), then simulate ``inner`` windows from each replicate with the
    same (common) inner draws.
    """
    days, columns = pool.shape
    indices = pseudo_histories(days, draws.outer[:, :outer], block_days=draws.block_days)
    count = len(indices)
    stacked = pool[indices.T].reshape(days, count * columns)
    sums = window_sums(
        stacked,
        draws.windows[:, :inner],
        window_days=draws.window_days,
        block_days=draws.block_days,
    )
    shaped: FloatArray = sums.reshape(inner, count, columns).transpose(1, 0, 2)
    return shaped


def origins(
    *, days: int, window_days: int, step_days: int, history_days: FloatArray, min_history: float
) -> list[int]:
    """Backtest origins: day indices ``t`` with ``window_days`` of days after and enough before.

    Anchored at the end (the latest origin's window ends with the history, so the most recent
    behaviour is always evaluated), then every ``step_days`` back while the data present before
    ``t`` (``history_days``: cumulative days of data, ``history_days[t]`` = before day ``t``)
    still reaches ``min_history``. Returned oldest first.
    """
    found = []
    origin = days - window_days
    while origin >= 1 and history_days[origin] >= min_history:
        found.append(origin)
        origin -= step_days
    return found[::-1]
