"""explain: incidents, baselines, gaps, dependency shares and the words."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pytest

from bench import judge, profiles
from sloreco.core import prior as priors
from sloreco.core import results
from sloreco.core.explain import explain, priornote
from sloreco.core.explain import incidents as explain_incidents
from tests import factories


def test_baseline_is_the_traffic_weighted_median_day() -> None:
    total = np.array([100.0, 100.0, 100.0, 10.0])
    bad = np.array([1.0, 1.0, 50.0, 5.0])  # one incident day; one quiet day

    assert explain.baseline_ratio(bad, total) == 0.01


def test_baseline_without_traffic_is_zero() -> None:
    assert explain.baseline_ratio(np.zeros(3), np.zeros(3)) == 0.0


def test_an_hour_far_above_the_baseline_is_an_incident() -> None:
    total = np.full(4, 1000.0)
    bad = np.array([1.0, 30.0, 9.0, 2.0])

    assert explain.incident_mask(bad, total, 0.001).tolist() == [False, True, False, False]


def test_a_couple_of_errors_on_a_quiet_hour_are_no_incident() -> None:
    assert explain.incident_mask(np.array([2.0]), np.array([3.0]), 0.0).tolist() == [False]


def test_errors_that_poisson_noise_brings_a_quiet_hour_are_no_incident() -> None:
    # 22 requests an hour at a 1% error ratio: 0.22 errors expected. Three come by chance
    # once in ~700 hours (about three "incidents" in 90 days); five once in ~300,000.
    total = np.full(2, 22.0)

    assert explain.incident_mask(np.array([3.0, 5.0]), total, 0.01).tolist() == [False, True]


def test_the_poisson_tail_is_exact_at_small_means() -> None:
    tail = explain_incidents._poisson_tail(np.array([0.21, 0.6, 0.0]), np.array([3.0, 7.0, 1.0]))

    # 1 - e^-m (1 + m + m^2/2) at 0.21; the terms from 7 on at 0.6; none at 0.
    assert tail == pytest.approx([1.3196797524e-3, 3.2930841326e-6, 0.0], rel=1e-9)


def test_a_fractional_count_is_read_up_to_whole_events() -> None:
    fractional = explain_incidents._poisson_tail(np.array([0.21]), np.array([2.97]))

    assert fractional == explain_incidents._poisson_tail(np.array([0.21]), np.array([3.0]))


def test_adjacent_flagged_buckets_form_one_incident_with_its_share() -> None:
    bad = np.array([0.0, 40.0, 40.0, 0.0, 20.0])
    total = np.full(5, 100.0)
    mask = bad > 0

    found, share = explain.incidents(bad, total, mask, start=0, bucket_seconds=3600)

    assert ([(i.start, i.end, i.share) for i in found], share) == (
        [(3600, 3 * 3600, 0.8), (4 * 3600, 5 * 3600, 0.2)],
        1.0,
    )


def test_only_the_longest_gaps_are_listed() -> None:
    present = np.ones(200, dtype=np.bool_)
    present[::4] = False  # 50 one-bucket gaps
    present[101:110] = False  # one long gap, 100-109, swallowing three short ones
    excluded = np.zeros(200, dtype=np.bool_)

    listed, more = explain.gaps(present, excluded, start=0, bucket_seconds=60)

    assert (len(listed), more, results.Gap(100 * 60, 110 * 60) in listed) == (
        explain.GAPS_LISTED,
        48 - explain.GAPS_LISTED,
        True,
    )


def test_text_is_clipped_after_a_whole_sentence() -> None:
    assert explain.clip("One. Two. Three.", 12) == "One. Two."


def test_dependency_budget_share_and_bottleneck() -> None:
    impacts = explain.dependency_impacts(
        (("db", 0.999), ("cache", 0.9999)),
        (factories.tier("balanced", "99.5"), factories.tier("perfect", "100")),
    )

    assert [(d.name, d.bottleneck, d.budget_share) for d in impacts] == [
        ("db", True, (("balanced", (1 - 0.999) / (1 - 0.995)), ("perfect", None))),
        ("cache", False, (("balanced", (1 - 0.9999) / (1 - 0.995)), ("perfect", None))),
    ]


def _prior_effect(*, incidents: int, bursts: int) -> priornote.PriorEffect:
    return priornote.PriorEffect(
        origin="default",
        incidents=incidents,
        bursts=bursts,
        days=90.0,
        median_minutes=40.0,
        per_window=0.93,
        window="28d",
        names=("balanced",),
        replayed=(Decimal("99.9"),),
        chosen=(Decimal("99.5"),),
        spell_days=None,
        spells_with_fleet=False,
        block_days=5,
        background_events=250.0,
        unseen_per_window=0.16,
    )


def test_the_prior_note_counts_incidents_and_the_bursts_the_model_reads() -> None:
    note = priornote.prior_note(_prior_effect(incidents=5, bursts=3))
    assert (
        "5 incidents in 90.0 days, 3 bursts once those less than a day apart are joined "
        "(median 40 full-outage minutes per burst); it expects 0.93 bursts per 28d window"
    ) in note


def test_the_prior_note_says_incidents_when_none_were_joined() -> None:
    note = priornote.prior_note(_prior_effect(incidents=3, bursts=3))
    assert (
        "3 incidents in 90.0 days (median 40 full-outage minutes); it expects 0.93 incidents"
        in (note)
    )


def test_the_prior_note_says_its_incidents_do_not_rule_out_larger_ones() -> None:
    effect = dataclasses.replace(_prior_effect(incidents=3, bursts=3), clean_floor_minutes=24.6)

    assert (
        "Its incidents do not rule out larger ones: the model allows for incidents over 25 "
        "full-outage minutes at least as often as after 90.0 days with none."
    ) in priornote.prior_note(effect)


def test_the_prior_note_says_how_long_the_background_drifts() -> None:
    effect = dataclasses.replace(_prior_effect(incidents=0, bursts=0), spell_days=9.4)

    note = priornote.prior_note(effect)

    assert "The background drifts in spells of about 9 days (replayed in 5-day blocks)" in note


def test_the_prior_note_says_when_the_spells_were_read_with_the_fleets() -> None:
    effect = dataclasses.replace(
        _prior_effect(incidents=0, bursts=0), spell_days=9.4, spells_with_fleet=True
    )

    note = priornote.prior_note(effect)

    assert "spells of about 9 days (read with its fleet's, replayed in 5-day blocks)" in note


def test_day_to_day_noise_is_no_spell() -> None:
    effect = dataclasses.replace(_prior_effect(incidents=0, bursts=0), spell_days=0.6)

    assert "spells" not in priornote.prior_note(effect)


def test_a_persistent_history_is_explained_as_one() -> None:
    profile = profiles.by_name("persistent")
    total, bad = judge.histories(profile, count=1, seed=3)[0]

    result = judge.engine_result(profile, total, bad, 3, None)

    assert any("The background drifts in spells of about" in n for n in result.data_quality.notes)


def test_the_prior_note_says_when_the_background_rose_and_stayed() -> None:
    effect = dataclasses.replace(_prior_effect(incidents=0, bursts=0), rise=(14, 3.04))

    note = priornote.prior_note(effect)

    assert (
        "The background ran 3.0 times its earlier level over the last 14 days, more than the "
        "drift of its earlier days explains; the model forecasts from that level."
    ) in note


def test_a_regression_that_stayed_is_explained_as_one() -> None:
    profile = profiles.by_name("regression")
    total, bad = judge.histories(profile, count=1, seed=3)[0]

    result = judge.engine_result(profile, total, bad, 3, None)

    assert any("times its earlier level over the last" in n for n in result.data_quality.notes)


def _note_with(creep: priornote.Creep) -> str:
    """The prior note of a quiet history whose background creeps."""
    return priornote.prior_note(
        dataclasses.replace(_prior_effect(incidents=0, bursts=0), creep=creep)
    )


def test_the_prior_note_says_when_the_background_creeps() -> None:
    note = _note_with(priornote.Creep(57.4, distinct=True))

    assert (
        "The background crept up through the history, doubling about every 57 days, more than "
        "its drift around that growth explains; the model forecasts from the level it reaches "
        "by the middle of the next window."
    ) in note


def test_the_prior_note_says_when_the_creep_was_read_with_the_fleets() -> None:
    note = _note_with(priornote.Creep(61.0, distinct=True, with_fleet=True, fleet_creeps=True))

    assert (
        "The background crept up through the history, doubling about every 61 days, read with "
        "its fleet's, whose backgrounds creep too; the model forecasts"
    ) in note


def test_the_prior_note_does_not_say_a_fleet_creeps_when_it_does_not() -> None:
    note = _note_with(priornote.Creep(61.0, distinct=True, with_fleet=True, fleet_creeps=False))

    assert "doubling about every 61 days, read with its fleet's; the model forecasts" in note
    assert "creep too" not in note


def test_the_prior_note_says_when_only_the_fleet_forecasts_a_creep() -> None:
    note = _note_with(priornote.Creep(1234.0, distinct=False, with_fleet=True, fleet_creeps=True))

    assert (
        "The background may be creeping up: read with its fleet's, it is doubling about every "
        "1,234 days, too little to tell apart from its drift;"
    ) in note
    assert "crept up through the history" not in note


def test_a_creep_is_explained_as_one_and_not_as_the_step_it_also_reads() -> None:
    profile = profiles.by_name("creep")
    total, bad = judge.histories(profile, count=1, seed=3)[0]

    notes = judge.engine_result(profile, total, bad, 3, None).data_quality.notes

    assert any("The background crept up through the history" in n for n in notes)
    assert not any("times its earlier level" in n for n in notes)


def test_the_prior_note_says_when_the_background_is_too_quiet_to_measure() -> None:
    effect = dataclasses.replace(
        _prior_effect(incidents=0, bursts=0), background_events=0.0, unseen_per_window=0.31
    )

    note = priornote.prior_note(effect)

    assert (
        "The history holds no bad events outside incidents, too few to measure their rate; the "
        "model allows for about 0.31 a 28d window that it did not show."
    ) in note


def test_a_measurable_background_needs_no_such_sentence() -> None:
    assert "too few to measure" not in priornote.prior_note(_prior_effect(incidents=0, bursts=0))


def test_with_no_incident_seen_the_prior_note_names_the_size_it_assumed() -> None:
    effect = dataclasses.replace(_prior_effect(incidents=0, bursts=0), median_minutes=40.0)

    assert priornote.size_note(effect) == (
        "With no incident seen, their size is the prior's (median 40 full-outage minutes): "
        "outages much longer, which this history could not show, are covered only as often as "
        "that prior expects them."
    )


def test_a_history_with_incidents_is_sized_by_them_not_by_the_prior_alone() -> None:
    effect = dataclasses.replace(_prior_effect(incidents=3, bursts=3), median_minutes=40.0)

    assert priornote.size_note(effect) is None


def test_a_fleet_prior_of_strangers_says_what_it_is_calibrated_for() -> None:
    effect = dataclasses.replace(
        _prior_effect(incidents=3, bursts=3),
        origin="fleet:default, availability",
        fleet_rate_shape=0.7,
    )

    assert priornote.fleet_note(effect) == (
        "Its fleet prior (fleet:default, availability) pools services whose incident rates "
        "differ by more than their mean (their spread's Gamma shape is 0.70, below 1): it is "
        "calibrated across those services, not for this one. A prior pooled from services alike "
        "in their incidents (spec.fleet names such a fleet) tells this one more."
    )


@pytest.mark.parametrize("shape", [None, 1.0, 4.0])
def test_the_default_or_a_fleet_of_alike_rates_needs_no_fleet_note(shape: float | None) -> None:
    effect = dataclasses.replace(_prior_effect(incidents=3, bursts=3), fleet_rate_shape=shape)

    assert priornote.fleet_note(effect) is None


def test_the_explanation_lists_the_incidents_the_model_read_after_a_rise() -> None:
    # A tenfold background since 14 days passes the detector's floor (ten times the history's
    # normal) in about half its hours; the model reads a level there, not incidents, and the
    # explanation's list must not say otherwise.
    data = factories.hourly_availability(factories.risen_shares(90, rise_days=14, factor=10.0)[0])

    result = factories.recommend_availability(data, window_seconds=28 * 86400, seed=1)

    assert "No incident stood out" in result.explanation.summary
    assert "no incident in 90.0 days" in result.explanation.summary


def test_a_clean_history_is_told_the_incident_size_its_default_prior_assumed() -> None:
    data = factories.hourly_availability(np.full(90, 0.001))

    result = factories.recommend_availability(data, window_seconds=28 * 86400, seed=1)

    minutes = f"median {priors.DEFAULT_MEDIAN_MINUTES:.0f} full-outage minutes"
    lines = result.explanation.summary.splitlines()
    assert lines[-2].startswith("Incident model (default prior): no incident in 90.0 days")
    assert lines[-1].startswith(f"With no incident seen, their size is the prior's ({minutes})")
