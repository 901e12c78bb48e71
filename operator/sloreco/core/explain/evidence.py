"""What the engine hands the explanation: every computed value, before anything is put in words.

Its own module because both ``explain`` (the result, its data quality and limits) and ``wording``
(the summary) read this record, and ``explain`` uses ``wording``: kept in either one, the other
would have to import it back. The engine fills it in; nothing downstream changes it.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np

from sloreco.core import history, results

FloatArray = history.FloatArray
BoolArray = history.BoolArray


@dataclasses.dataclass(frozen=True, eq=False)
class Facts:
    """Everything the engine computed, from which the result and its explanation are built."""

    kind: results.Traits
    start: int
    end: int
    bucket_seconds: int
    window_seconds: int
    seed: int
    block_days: int
    tiers: tuple[results.Tier, ...]
    #: Out-of-sample counts: evaluations, breaches per tier, breaches of the current objective.
    evaluations: int
    breaches: tuple[int, ...]
    #: Window values (availability fractions or latencies) and whether they are real windows.
    windows: FloatArray
    from_history: bool
    present: BoolArray
    excluded: BoolArray
    traffic: float
    incidents: tuple[results.Incident, ...]
    incident_share: float
    #: Tier targets (percent) the data alone supports, and without the incidents.
    uncapped: tuple[Decimal, ...]
    without_incidents: tuple[Decimal, ...] | None = None
    #: Tier targets (percent) the history replayed as it was supports (the plain bootstrap),
    #: and the model's background alone, without any incident loss (``explain.limits``; empty:
    #: not computed, as where the model moved no tier far from the replay).
    replayed: tuple[Decimal, ...] = ()
    background_alone: tuple[Decimal, ...] = ()
    dependencies: tuple[tuple[str, float], ...] = ()
    ceiling: float | None = None
    objective: results.ObjectiveReport | None = None
    notes: tuple[str, ...] = ()
    percentile: Decimal | None = None
    #: Latency: tiers whose threshold sits at the highest finite bound (the +Inf bucket).
    tail_limited: tuple[bool, ...] = ()

    @property
    def window_days(self) -> int:
        return self.window_seconds // history.SECONDS_PER_DAY

    @property
    def data_days(self) -> float:
        return float(np.count_nonzero(self.present)) * self.bucket_seconds / history.SECONDS_PER_DAY
