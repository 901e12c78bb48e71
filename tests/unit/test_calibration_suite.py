"""The calibration suite's own arithmetic: its processes do what their profiles say.

``bench/calibrate.py`` judges the engine against these processes, so a process that silently
produced fewer incidents than its profile states would make every tier look better than it is.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

from bench import calibrate, fleets, judge, processes, profiles
from sloreco.core import prior as priors


def test_incidents_arrive_at_the_profile_rate() -> None:
    profile = processes.Profile("p", "", incident_rate=0.25, duration_median_hours=1.0)
    rng = np.random.default_rng(1)

    severity = processes.incident_severity(profile, rng, 2000, 24 * 28)
    hit = np.concatenate([np.zeros((2000, 1)), severity], axis=1) > 0
    starts = np.count_nonzero(np.diff(hit.astype(np.int8), axis=1) == 1)

    # 2000 windows x 7 expected incidents: ~14,000 (sd ~120); overlaps merge a few.
    assert 13_000 < starts < 14_400


def test_clustered_incidents_come_in_bursts_of_the_stated_mean_size() -> None:
    profile = processes.Profile(
        "p", "", incident_rate=0.05, duration_median_hours=1.0, follow_up_probability=0.5
    )
    rng = np.random.default_rng(5)

    severity = processes.incident_severity(profile, rng, 2000, 24 * 28)
    hit = np.concatenate([np.zeros((2000, 1)), severity], axis=1) > 0
    starts = np.count_nonzero(np.diff(hit.astype(np.int8), axis=1) == 1)

    # 2000 windows x 1.4 bursts x 2 incidents each (1 / (1 - 0.5)): ~5,600, fewer at the edges
    # (a follow-up past the window's end) and where a follow-up touches its predecessor.
    assert 5_000 < starts < 5_800


def test_background_share_has_the_profile_mean() -> None:
    profile = processes.Profile("p", "", background=0.002, background_shape=0.5)

    total, bad = processes.simulate(profile, np.random.default_rng(2), 400, 28)

    assert bad.sum() / total.sum() == pytest.approx(0.002, rel=0.1)


def test_a_latency_split_keeps_every_request() -> None:
    profile = profiles.by_name("latency-steady")
    total = np.array([[1000.0, 0.0], [50.0, 7.0]])
    slow = np.array([[10.0, 0.0], [50.0, 0.0]])

    cumulative = processes.latency_split(profile, np.random.default_rng(3), total, slow)

    assert cumulative.shape == (2, 2, len(processes.BOUNDS))
    assert np.array_equal(cumulative[..., -1], total)
    assert (np.diff(cumulative, axis=-1) >= 0).all()


def test_the_oracle_keeps_its_own_promise() -> None:
    future = judge.truth(profiles.by_name("incidents"), windows=20_000, seed=4)

    for _, promise, _ in judge.TIERS:
        oracle = judge.TierTarget("t", 0.0)
        best = judge.TierTarget("t", future.oracle(oracle, 1 - promise))
        looser = judge.TierTarget("t", np.nextafter(best.target, 2.0))

        assert future.breach(best) <= promise < future.breach(looser)


def test_profile_names_are_unique() -> None:
    names = [p.name for p in profiles.PROFILES + profiles.PROBES]

    assert len(names) == len(set(names))


def test_probes_run_when_named_and_stay_out_of_the_suites_tables() -> None:
    # docs/calibration-history.md quotes each probe's measurement with the command that
    # reproduces it; the tables ``make calibrate`` writes hold the suite's profiles only.
    probe = profiles.PROBES[0]

    def named(names: list[str] | None) -> list[str]:
        with mock.patch.object(calibrate, "run_profile", lambda p, *a, **k: {"profile": p.name}):
            rows = calibrate.suite(
                judge.current_engine, names=names, count=1, windows=1, members=0, seed=1
            )
        return [r["profile"] for r in rows]

    assert named(None) == [p.name for p in profiles.PROFILES]
    assert named([probe.name]) == [probe.name]
    assert profiles.by_name(probe.name) is probe


def test_a_suite_asked_for_longer_histories_gives_every_profile_that_history() -> None:
    # ``make calibrate``'s 180-day tables: each profile's process as it is, seen for longer.
    seen: list[tuple[str, int, int]] = []

    def record(p: processes.Profile, *args: object, **kwargs: object) -> dict[str, str]:
        seen.append((p.name, p.history_days, p.window_days))
        return {"profile": p.name}

    with mock.patch.object(calibrate, "run_profile", record):
        calibrate.suite(
            judge.current_engine,
            names=["incidents", "short-14d"],
            count=1,
            windows=1,
            members=0,
            seed=1,
            changes={"history_days": 180},
        )

    assert seen == [("incidents", 180, 28), ("short-14d", 180, 28)]


def test_finer_buckets_keep_every_hours_requests_in_that_hour() -> None:
    rng = np.random.default_rng(3)
    hourly = rng.poisson(50.0, (48, 3)).astype(np.float64)

    spread = processes.finer(hourly, 12, np.random.default_rng(4))

    assert spread.shape == (48 * 12, 3)
    np.testing.assert_array_equal(spread.reshape(48, 12, 3).sum(axis=1), hourly)


def test_a_gappy_history_misses_its_share_of_hours_and_a_whole_block() -> None:
    missing = processes.gaps(90 * 24, np.random.default_rng(8))

    runs = [len(run) for run in np.split(missing, np.flatnonzero(np.diff(missing)) + 1) if run[0]]
    assert max(runs) >= processes.GAP_BLOCK_DAYS * 24
    assert missing.mean() == pytest.approx(processes.GAP_SHARE + 3 / 90, abs=0.02)


def test_brownouts_are_long_and_mild() -> None:
    profile = profiles.by_name("brownout")
    rng = np.random.default_rng(6)

    severity = processes.incident_severity(profile, rng, 400, 24 * 90)
    hours = severity[severity > 0]

    # 400 histories x 3 brownouts x ~40 h mean (lognormal 36 h, sigma 0.4, in whole hours):
    # ~48,000 hours, a little fewer where one runs past the end.
    assert 42_000 < len(hours) < 54_000
    # As its description says: 1-3% failing in most of a brownout's hours (beta(4, 196): 74%).
    assert 0.65 < np.mean((hours > 0.01) & (hours < 0.03)) < 0.85
    assert hours.max() < 0.1


def test_a_persistent_background_keeps_its_mean_and_its_day_to_day_correlation() -> None:
    profile = profiles.by_name("persistent")

    total, bad = processes.simulate(profile, np.random.default_rng(4), 300, 90)
    daily = bad.reshape(300, 90, 24).sum(axis=2) / total.reshape(300, 90, 24).sum(axis=2)
    logs = np.log(daily + 1e-6)
    logs = logs - logs.mean(axis=1, keepdims=True)
    lag_one = (logs[:, 1:] * logs[:, :-1]).sum() / (logs**2).sum()

    assert bad.sum() / total.sum() == pytest.approx(0.001, rel=0.1)
    # AR(1) of 0.9 on the log share; Poisson noise and a 90-day demeaning pull it down a little.
    assert 0.75 < lag_one < 0.92


def test_rate_regimes_spread_incident_counts_beyond_poisson() -> None:
    profile = processes.Profile(
        "p", "", incident_rate=0.25, duration_median_hours=1.0, rate_shape=2.0
    )

    severity = processes.incident_severity(profile, np.random.default_rng(6), 4000, 24 * 28)
    hit = np.concatenate([np.zeros((4000, 1)), severity], axis=1) > 0
    counts = np.count_nonzero(np.diff(hit.astype(np.int8), axis=1) == 1, axis=1)

    # 7 incidents a window; the rate's gamma (shape 2) adds mean² / 2 = 24.5 to Poisson's 7.
    assert 6.5 < counts.mean() < 7.2
    assert 25 < counts.var() < 38


def test_a_profile_is_judged_on_the_window_it_names() -> None:
    # Seven-day windows of 'incidents' (one incident every two weeks) hold none half the time
    # and a whole one otherwise; 28-day windows average two: the shorter windows spread wider.
    incidents = profiles.by_name("incidents")
    week = judge.truth(incidents.with_(window_days=7), windows=4_000, seed=2)
    month = judge.truth(incidents, windows=4_000, seed=2)

    assert np.std(week.values) > 1.5 * np.std(month.values)


def test_a_regressions_history_rises_where_its_profile_says_and_its_future_keeps_the_level() -> (
    None
):
    profile = profiles.by_name("regression")
    total, bad = processes.history(profile, np.random.default_rng(6), 40)
    split = (profile.history_days - profile.rise_days) * processes.HOURS

    before = bad[:, :split].sum() / total[:, :split].sum()
    after = bad[:, split:].sum() / total[:, split:].sum()
    future = judge.truth(profile, windows=2_000, seed=6)

    assert 2.7 < after / before < 3.3
    assert abs(after / profile.background - 1) < 0.05
    assert abs((1 - float(np.mean(future.values))) / profile.background - 1) < 0.05


def test_a_creeps_background_doubles_on_schedule_through_its_history_and_future() -> None:
    profile = profiles.by_name("creep")
    total, bad = processes.history(profile, np.random.default_rng(7), 40)
    month = 30 * processes.HOURS

    first = bad[:, :month].sum() / total[:, :month].sum()
    last = bad[:, -month:].sum() / total[:, -month:].sum()
    future = judge.truth(profile, windows=2_000, seed=7)

    # the first month of 90 days ran two months, one doubling, before the last
    assert 1.8 < last / first < 2.2
    # the next 28 days run 2^(14/60) = 1.18 times the level where the history ends
    assert abs((1 - float(np.mean(future.values))) / profile.background - 1.18) < 0.06


def test_a_fleet_per_kind_pools_each_members_prior_from_its_own_kind_only() -> None:
    kinds: dict[int, bool] = {}  # a history's id → its member's durations are Pareto
    pooled_from: list[tuple[bool, set[bool]]] = []

    def record(profile: processes.Profile, pasts: list[object], i: int) -> None:
        pareto = profile.pareto_alpha > 0
        kinds.setdefault(id(pasts[i]), pareto)
        if len(pasts) < members:  # a kind's own list: every history in it known by now
            pooled_from.append((pareto, {kinds[id(p)] for p in pasts}))

    def engine(*_: object) -> list[judge.TierTarget]:
        return [judge.TierTarget(name, 0.99) for name, _, _ in judge.TIERS]

    members = 12
    rows = fleets.run_fleet(engine, members=members, windows=200, seed=3, prior_for=record)

    assert len(pooled_from) == members
    assert all(peers == {pareto} for pareto, peers in pooled_from)
    assert {pareto for pareto, _ in pooled_from} == {True, False}  # both kinds drawn
    apart = [r["profile"] for r in rows if r["profile"].startswith("mixed-fleet, a fleet per")]
    assert apart == [
        "mixed-fleet, a fleet per kind: Pareto members",
        "mixed-fleet, a fleet per kind: lognormal members",
    ]


def test_a_stranger_is_pooled_from_the_other_services_of_its_scope_never_from_itself() -> None:
    def seen(scope: str, incidents: int) -> object:
        stats = priors.ServiceStats(incidents=incidents, exposure_days=90.0)
        return mock.Mock(scope=scope, incidents=((scope, stats),))

    enough = fleets.MIN_FLEET_SERVICES + 1
    fleet = [seen("availability", k) for k in range(enough)] + [seen("latency-0.5s", 9)]

    pooled = fleets.pooled(fleet, 0, origin="fleet:strangers")
    alone = fleets.pooled(fleet, enough, origin="fleet:strangers")

    assert pooled is not None
    assert (pooled.scope, pooled.services, pooled.incidents) == (
        "availability",
        enough - 1,
        sum(range(1, enough)),
    )
    assert alone is None  # no latency peers: the default prior, as the operator keeps it


def test_two_kinds_draws_blips_and_a_rarer_more_severe_outage_on_every_process() -> None:
    from bench import sweep

    rng = np.random.default_rng(11)

    drawn = [sweep.draw_two_kinds(rng, i) for i in range(200)]

    for p in drawn:
        (outages,) = p.also
        assert 1 / 20 <= p.incident_rate <= 1 / 2
        assert 1 / 400 <= outages.incident_rate <= 1 / 45
        assert p.severity_mean <= 0.2
        assert outages.severity_mean >= 0.3
        assert p.rate_shape == 0
        assert p.pareto_alpha == 0
    # A quarter of the outage kinds have Pareto durations (binomial sd ~6 of 200).
    assert 30 <= sum(p.also[0].pareto_alpha > 0 for p in drawn) <= 70


def test_shifted_draws_a_rise_or_a_creep_on_every_process() -> None:
    from bench import sweep

    rng = np.random.default_rng(13)

    drawn = [sweep.draw_shifted(rng, i) for i in range(200)]

    for p in drawn:
        assert (p.rise_days > 0) != (p.doubling_days > 0)
        if p.rise_days:
            assert 7 <= p.rise_days <= max(p.history_days // 2, 7)
            assert 1.5 <= p.rise_factor <= 5.0
        else:
            assert 30.0 <= p.doubling_days <= 180.0
    # Half rises, half creeps (binomial sd ~7 of 200).
    assert 75 <= sum(p.rise_days > 0 for p in drawn) <= 125


def test_a_weekly_services_incidents_start_in_working_hours_at_the_profiles_rate() -> None:
    profile = processes.Profile(
        "p", "", incident_rate=0.25, duration_median_hours=1.0, working_hours_incidents=True
    )

    severity = processes.incident_severity(profile, np.random.default_rng(9), 2000, 24 * 28)
    hit = np.concatenate([np.zeros((2000, 1)), severity], axis=1) > 0
    starts = np.flatnonzero(np.diff(hit.astype(np.int8), axis=1).reshape(-1) == 1) % (24 * 28)

    # As many as without the rhythm (~14,000, sd ~120; overlaps merge more when they crowd
    # into 40 hours a week), every one on a weekday between 09:00 and 17:00.
    assert 12_500 < len(starts) < 14_400
    assert set(starts // 24 % 7) <= {0, 1, 2, 3, 4}
    assert set(starts % 24) <= set(processes.WORKING_HOURS)


def test_a_weekly_services_weekends_are_quieter_by_the_stated_share() -> None:
    profile = processes.Profile("p", "", weekend_traffic=processes.WEEKEND_TRAFFIC)

    total, _ = processes.simulate(profile, np.random.default_rng(10), 200, 28)
    by_weekday = total.reshape(200, 4, 7, 24).sum(axis=(0, 1, 3))

    assert by_weekday[5:].mean() / by_weekday[:5].mean() == pytest.approx(0.3, rel=0.03)


def test_a_small_fleet_pools_each_history_from_the_others_of_its_group_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # --fleet-size 6: histories 6-11 are one team's fleet; history 7 learns from the other five
    monkeypatch.setattr(fleets, "MIN_FLEET_SERVICES", 5)

    def engine(*args: object, **_: object) -> mock.Mock:  # (profile, total, bad, seed, prior)
        stats = priors.ServiceStats(incidents=int(str(args[3])), exposure_days=90.0)
        return mock.Mock(scope="availability", incidents=(("availability", stats),))

    monkeypatch.setattr(judge, "engine_result", engine)
    monkeypatch.setattr(fleets, "_SEEN", [])
    pasts = [(np.ones(1), np.zeros(1)) for _ in range(18)]
    prior = fleets.fleet_prior(profiles.by_name("steady"), pasts, 7, size=6)

    assert isinstance(prior, priors.Prior)
    assert (prior.services, prior.incidents) == (5, 6 + 8 + 9 + 10 + 11)
