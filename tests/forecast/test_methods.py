"""Tests of methods.py: each method on small series with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from ks_analysis.forecast import methods as m

S = np.array([5, 5, 8, 10, 12, 15, 20, 18, 12, 8, 6, 5], dtype=float)


def _cur(values: np.ndarray, known: int) -> np.ndarray:
    c = values.astype(float).copy()
    c[known:] = np.nan
    return c


def test_pure_seasonal_every_method_is_exact() -> None:
    """A series that repeats each year: every sub-annual method forecasts last year's total."""
    hist = np.tile(S, (5, 1))
    for known in (3, 4, 8):
        ctx = m.MethodContext(aggregation="sum", is_count=True, seasonal_share=S / S.sum())
        for name in (
            "ytd_snaive",
            "ytd_ratio",
            "credibility",
            "ets_remainder",
            "cred_ets",
            "naive_annual",
        ):
            assert m.METHODS[name](hist, _cur(S, known), ctx) == pytest.approx(S.sum(), rel=1e-6), (
                name,
                known,
            )


def test_flat_series_credibility_closed_form() -> None:
    """Flat 10 a month, then 20 a month so far: the Gamma–Poisson blend has a known answer.

    Last year's total m = 120, between-year variance floor (0.05 m)^2 = 36, so b = m / 36; the
    exposure is s = 4/12; rate = (b m + ytd) / (b + s); forecast = ytd + rate (1 - s).
    """
    hist = np.full((4, 12), 10.0)
    cur = _cur(np.full(12, 20.0), 4)
    ctx = m.MethodContext(aggregation="sum", is_count=True)
    b, s, ytd, mm = 120 / 36, 4 / 12, 80.0, 120.0
    expected = ytd + (b * mm + ytd) / (b + s) * (1 - s)
    assert m.credibility(hist, cur, ctx) == pytest.approx(expected)
    # between YTD ratio (240) and last year (120), nearer last year this early in the year
    assert 120 < expected < 200
    assert m.ytd_ratio(hist, cur, ctx) == pytest.approx(240.0)
    assert m.ytd_snaive(hist, cur, ctx) == pytest.approx(80 + 80)


def test_flat_poisson_credibility_beats_ytd_ratio_early() -> None:
    """On a flat Poisson series the blend is more accurate in April than YTD / share."""
    rng = np.random.default_rng(7)
    err_c, err_r = [], []
    ctx = m.MethodContext(aggregation="sum", is_count=True)
    for _ in range(300):
        y = rng.poisson(3.0, size=(6, 12)).astype(float)
        cur = _cur(y[-1], 3)
        err_c.append(abs(m.credibility(y[:-1], cur, ctx) - y[-1].sum()))  # type: ignore[operator]
        err_r.append(abs(m.ytd_ratio(y[:-1], cur, ctx) - y[-1].sum()))  # type: ignore[operator]
    assert np.mean(err_c) < np.mean(err_r)


def test_ytd_ratio_uses_the_pooled_share() -> None:
    """Twice the usual level so far: with the profile's own share the full year is twice the usual."""
    hist = np.tile(S, (3, 1))
    ctx = m.MethodContext(aggregation="sum", seasonal_share=S / S.sum())
    assert m.ytd_ratio(hist, _cur(2 * S, 4), ctx) == pytest.approx(2 * S.sum())


def test_mean_aggregation() -> None:
    """A yearly mean of a monthly share: year to date plus last year's remaining months, divided by 12."""
    hist = np.tile(np.full(12, 4.0), (3, 1))
    cur = _cur(np.full(12, 5.0), 4)
    ctx = m.MethodContext(aggregation="mean")
    assert m.ytd_snaive(hist, cur, ctx) == pytest.approx((4 * 5 + 8 * 4) / 12)
    assert m.naive_annual(hist, cur, ctx) == pytest.approx(4.0)
    assert m.ytd_ratio(hist, cur, ctx) == pytest.approx(5.0)


def test_stock_carries_the_latest_value() -> None:
    """'last' (e.g. build-ready lots): the latest published month carries forward."""
    hist = np.tile(np.arange(12, dtype=float), (2, 1))
    cur = _cur(np.array([3, 4, 2] + [0] * 9, dtype=float), 3)
    ctx = m.MethodContext(aggregation="last")
    assert m.ytd_snaive(hist, cur, ctx) == 2.0
    assert m.naive_annual(hist, cur, ctx) == 2.0


def test_ses_pooled() -> None:
    """Pooled simple exponential smoothing gives the last value with alpha 1 and the midpoint with alpha 0.5."""
    hist = np.array([[0.0], [2.0]])
    cur = np.array([np.nan])
    assert m.ses_pooled(hist, cur, m.MethodContext(aggregation="point", ses_alpha=1.0)) == 2.0
    assert m.ses_pooled(hist, cur, m.MethodContext(aggregation="point", ses_alpha=0.5)) == 1.0


def test_short_history_gives_none() -> None:
    """Methods that need history say so with None (the forecast then falls back down its ladder)."""
    cur = _cur(S, 4)
    ctx = m.MethodContext(aggregation="sum", is_count=True)
    one = S[None, :]
    assert m.ets_remainder(one, cur, ctx) is None
    assert m.ytd_snaive(np.zeros((0, 12)), cur, ctx) is None
    assert m.naive_annual(np.zeros((0, 12)), cur, ctx) is None
    assert m.mase_scale(np.array([0.0, 0.0, 0.0])) is None  # constant zero: nothing scales an error
    # floors: 0.2 % of the level for an annual KPI, 2 % for a sub-annual series
    assert m.mase_scale(np.array([5.0, 5.0, 5.0])) == pytest.approx(0.01)
    assert m.mase_scale(
        np.array([5.0, 5.0, 5.0]), rel_floor=m.REL_SCALE_FLOOR_SUBYEAR
    ) == pytest.approx(0.1)
    # a smooth series keeps its own small changes: +100 a year on 13 000 is a scale of 100,
    # not 2 % of the level (260)
    smooth = 13000.0 + 100.0 * np.arange(9)
    assert m.mase_scale(smooth) == pytest.approx(100.0)
    assert m.mase_scale(np.array([1.0, 3.0, np.nan, 4.0])) == pytest.approx(2.0)


def _ets_remainder_statsmodels(
    hist: np.ndarray, cur: np.ndarray, ctx: m.MethodContext, *, reps: int = 500, seed: int = 0
) -> float | None:
    """Test oracle: the same fixed ETS(A,N,A) through statsmodels' ETSModel with simulated paths (slower).

    The smoothing weights are fixed (``ctx.ets_params``), so nothing is optimised; remainder paths
    are simulated, back-transformed and summed, and their mean is the remainder forecast.
    """
    from statsmodels.tsa.exponential_smoothing.ets import (
        ETSModel,
    )  # a dev dependency: only this oracle uses it

    P = cur.shape[0]
    known = ~np.isnan(cur)
    if P == 1 or known.all() or not known.any() or ctx.aggregation not in ("sum", "mean"):
        return None
    k = int(np.flatnonzero(known)[-1]) + 1
    if not known[:k].all():
        return None
    rows = hist[~np.isnan(hist).any(axis=1)][-8:]
    if rows.shape[0] < 3:
        return None
    y = np.concatenate([rows.ravel(), cur[:k]])
    transform = ctx.is_count and bool((y >= 0).all())
    z = np.sqrt(y) if transform else y
    alpha, gamma = ctx.ets_params
    n_full = z.size // P
    years = z[: n_full * P].reshape(n_full, P)
    season = (years - years.mean(axis=1, keepdims=True)).mean(axis=0)
    model = ETSModel(
        z, error="add", trend=None, seasonal="add", seasonal_periods=P,
        initialization_method="known", initial_level=float(years[0].mean()), initial_seasonal=season,
    )  # fmt: skip
    with model.fix_params({"smoothing_level": alpha, "smoothing_seasonal": gamma * (1 - alpha)}):
        res = model.fit(disp=False)
    state = np.random.get_state()
    np.random.seed(seed)  # statsmodels' simulate draws from numpy's global generator
    try:
        sims = np.asarray(res.simulate(P - k, repetitions=reps, anchor="end")).reshape(P - k, reps)
    finally:
        np.random.set_state(state)
    if transform:
        sims = np.maximum(sims, 0) ** 2
    return m._to_full(float(cur[:k].sum()) + float(sims.sum(axis=0).mean()), P, ctx.aggregation)


def test_numpy_ets_matches_statsmodels() -> None:
    """The fast ETS(A,N,A) recursion agrees with statsmodels' ETSModel (same fixed weights, simulated)."""
    pytest.importorskip("statsmodels")
    rng = np.random.default_rng(0)
    hist = rng.poisson(S * 3, size=(5, 12)).astype(float)
    cur = _cur(rng.poisson(S * 3).astype(float), 5)
    for is_count in (True, False):
        ctx = m.MethodContext(aggregation="sum", is_count=is_count)
        a = m.ets_remainder(hist, cur, ctx)
        b = _ets_remainder_statsmodels(hist, cur, ctx, reps=2000)
        assert a == pytest.approx(b, rel=0.01)


def test_cred_level_filters_poisson_noise_and_gives_the_level_before_any_quarter() -> None:
    """A flat Poisson count: the filtered level is nearer the true rate than last year's total;
    with nothing of the year published, cred_level gives that level (naive gives last year)."""
    rng = np.random.default_rng(5)
    errs_level, errs_last = [], []
    for _ in range(200):
        hist = rng.poisson(25.0, size=(8, 4)).astype(float)
        lev = m.count_level(hist)
        assert lev is not None
        errs_level.append(abs(lev - 100.0))
        errs_last.append(abs(hist[-1].sum() - 100.0))
    assert np.mean(errs_level) < 0.8 * np.mean(errs_last)
    hist = rng.poisson(25.0, size=(8, 4)).astype(float)
    ctx = m.MethodContext(aggregation="sum", is_count=True)
    cur = np.full(4, np.nan)
    assert m.cred_level(hist, cur, ctx) == pytest.approx(m.count_level(hist))
    assert m.naive_annual(hist, cur, ctx) == hist[-1].sum()
    # a non-count keeps last year's value before anything is published
    assert (
        m.cred_level(hist, cur, m.MethodContext(aggregation="sum", is_count=False))
        == hist[-1].sum()
    )


def test_yoy_carry_keeps_the_latest_ratio_to_last_year() -> None:
    """A level 10 % above last year in the latest months stays 10 % above for the rest of the year."""
    last = np.array([10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 22.0, 24.0, 26.0, 28.0, 30.0, 32.0])
    hist = np.vstack([last * 0.9, last])
    cur = np.r_[last[:4] * 1.1, np.full(8, np.nan)]
    ctx = m.MethodContext(aggregation="mean")
    assert m.yoy_carry(hist, cur, ctx) == pytest.approx(float(np.mean(last * 1.1)))


def test_ses_pooled_with_a_damped_step() -> None:
    """With a trend weight (chosen per KPI by the backtest) the last value moves on by phi x its last step."""
    hist = np.array([[100.0], [110.0], [np.nan], [120.0], [126.0]])
    ctx = m.MethodContext(aggregation="point", ses_alpha=1.0, extra={"trend_phi": 0.5})
    assert m.ses_pooled(hist, np.array([np.nan]), ctx) == pytest.approx(129.0)
    gap = np.array([[100.0], [110.0], [np.nan], [120.0]])
    assert m.ses_pooled(gap, np.array([np.nan]), ctx) == pytest.approx(
        120.0
    )  # the year before is unknown: no step
    assert (
        m.ses_pooled(hist, np.array([np.nan]), m.MethodContext(aggregation="point", ses_alpha=1.0))
        == 126.0
    )


def _seasonal_counts(rng: np.random.Generator, years: int, jump_at: int) -> np.ndarray:
    """Monthly counts with the profile S whose level doubles from year ``jump_at`` on."""
    level = np.where(np.arange(years) >= jump_at, 6.0, 3.0)
    return rng.poisson(S[None, :] * level[:, None]).astype(float)


def _sse(z: np.ndarray, alpha: float, seasonal: float) -> float:
    """One-step squared errors of ETS(A,N,A) on monthly ``z`` (statsmodels' weights, the
    initial states of methods._ets_filter)."""
    years = z.reshape(-1, 12)
    s = (years - years.mean(axis=1, keepdims=True)).mean(axis=0)
    level, total = float(years[0].mean()), 0.0
    for t, zt in enumerate(z):
        e = zt - (level + s[t % 12])
        total += e * e
        level += alpha * e
        s[t % 12] += seasonal * e
    return total


def test_fitted_ets_matches_statsmodels_fit() -> None:
    """The grid-fitted ETS(A,N,A) finds a fit as good as statsmodels' ETSModel optimiser (same
    initial states, free level and seasonal weights) and forecasts the rest of the year alike."""
    pytest.importorskip("statsmodels")
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(3)
    for jump_at in (3, 8):
        data = _seasonal_counts(rng, 9, jump_at)
        hist, cur = data[:8], _cur(data[8], 5)
        z_past = np.sqrt(hist.ravel())
        alpha, gamma = m._ets_fit_weights(z_past.tobytes(), 12)
        years = z_past.reshape(-1, 12)
        season = (years - years.mean(axis=1, keepdims=True)).mean(axis=0)
        model = ETSModel(
            z_past, error="add", trend=None, seasonal="add", seasonal_periods=12,
            initialization_method="known", initial_level=float(years[0].mean()),
            initial_seasonal=season,
        )  # fmt: skip
        res = model.fit(disp=False)

        ours = _sse(z_past, alpha, gamma * (1 - alpha))
        theirs = _sse(z_past, float(res.params[0]), float(res.params[1]))
        assert ours <= theirs * 1.03  # the grid is within 3 % of the optimiser's least squares
        # the forecast of the year's remaining months from the fitted weights
        ctx = m.MethodContext(aggregation="sum", is_count=True)
        fitted = m.ets_fit(hist, cur, ctx)
        assert fitted is not None
        z = np.sqrt(np.r_[hist.ravel(), cur[:5]])
        sm_model = ETSModel(
            z, error="add", trend=None, seasonal="add", seasonal_periods=12,
            initialization_method="known", initial_level=float(years[0].mean()),
            initial_seasonal=season,
        )  # fmt: skip
        with sm_model.fix_params(
            {"smoothing_level": float(res.params[0]), "smoothing_seasonal": float(res.params[1])}
        ):
            sm_res = sm_model.fit(disp=False)
        rest = np.maximum(np.asarray(sm_res.forecast(7)), 0) ** 2 + float(np.var(sm_res.resid[12:]))
        assert fitted == pytest.approx(float(cur[:5].sum() + rest.sum()), rel=0.03)


def test_fitted_ets_follows_a_level_shift_faster_than_the_fixed_weights() -> None:
    """After the level doubles, the fitted weights follow it; the fixed small ones lag behind."""
    rng = np.random.default_rng(11)
    errs_fit, errs_fixed = [], []
    for _ in range(30):
        data = _seasonal_counts(rng, 8, 5)
        hist, cur = data[:7], _cur(data[7], 4)
        ctx = m.MethodContext(aggregation="sum", is_count=True)
        truth = float(S.sum() * 6.0)
        fit, fixed = m.ets_fit(hist, cur, ctx), m.ets_remainder(hist, cur, ctx)
        assert fit is not None and fixed is not None
        errs_fit.append(abs(fit - truth))
        errs_fixed.append(abs(fixed - truth))
    assert np.mean(errs_fit) < 0.9 * np.mean(errs_fixed)
    # a combination needs both of its parts: no forecast without three complete years
    short = m.METHODS["cred_level_etsfit"](hist[-2:], cur, ctx)
    assert short is None


# --------------------------------------------------------------------------- pooled level


def _poisson_group(
    seed: int, n: int = 300, years: int = 9, od: float = 0.01, shocks: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Quarterly counts of ``n`` kommuner over ``years`` years (the last one the forecast year):
    Poisson around level x year factor x share drift, a seasonal profile, and the expected
    counts. The year factor, a random walk, moves every kommun at once (the forecast year's
    equals the year before's)."""
    rng = np.random.default_rng(seed)
    level = rng.lognormal(np.log(80), 0.9, n)
    # the group's level walks (as the real national totals do); the forecast year repeats the last
    steps = rng.normal(0, 0.12, years - 1) if shocks else np.zeros(years - 1)
    factor = np.exp(np.cumsum(np.r_[steps, 0.0]))
    drift = np.exp(np.cumsum(rng.normal(0, np.sqrt(od), (n, years)), axis=1))
    season = np.array([0.28, 0.25, 0.22, 0.25])
    mean = level[:, None, None] * (factor * drift)[:, :, None] * season
    return rng.poisson(mean).astype(float), mean


def _forecasts(counts: np.ndarray, method: str, known: int) -> np.ndarray:
    """Each series' full-year forecast of the last year with ``known`` quarters published."""
    pool = m.group_pool(counts[:, :-1, :])
    out = []
    for i in range(counts.shape[0]):
        hist, cur = counts[i, :-1], _cur(counts[i, -1], known)
        ctx = m.MethodContext(
            aggregation="sum",
            is_count=True,
            seasonal_share=np.array([0.28, 0.25, 0.22, 0.25]),
            pool=None
            if pool is None
            else m.GroupPool(pool.totals, hist.shape[0], pool.overdispersion),
        )
        v = m.METHODS[method](hist, cur, ctx)
        out.append(np.nan if v is None else v)
    return np.asarray(out)


def test_group_pool_recovers_the_overdispersion_of_poisson_gamma_counts() -> None:
    """On simulated counts whose shares drift with variance 0.01 a year beyond Poisson noise (and
    every kommun moving with common year shocks), the pooled moment estimator finds 0.006-0.016;
    with no drift at all, under 0.003. It could not if the deflation or the Poisson term were wrong."""
    drifting, _ = _poisson_group(1, od=0.01)
    pool = m.group_pool(drifting[:, :-1, :])
    assert pool is not None and 0.006 < pool.overdispersion < 0.016
    steady, _ = _poisson_group(2, od=0.0)
    pool = m.group_pool(steady[:, :-1, :])
    assert pool is not None and pool.overdispersion < 0.003


def test_pooled_level_removes_poisson_noise_and_common_shocks_from_last_year() -> None:
    """With Q1 known, the forecast of simulated Poisson counts is much closer to the outcome than
    year to date + last year's Q2-Q4 (ytd_snaive), and closer than the same filter without the
    peers (cred_level), whose level the history's common shocks mislead."""
    counts, _ = _poisson_group(3, od=0.002)
    actual = counts[:, -1].sum(axis=1)

    def mae(method: str) -> float:
        return float(np.mean(np.abs(_forecasts(counts, method, 1) - actual)))

    assert mae("pooled_level") < 0.85 * mae("ytd_snaive")
    assert mae("pooled_level") < 0.95 * mae("cred_level")


def test_pooled_level_before_any_quarter_is_the_deflated_level() -> None:
    """Every kommun doubled last year: deflated by the group's totals the kommun's history is
    flat at last year's level, so before any quarter the forecast is last year's total; with
    fifty flat kommuner instead, one kommun's doubling alone is mostly taken for noise."""
    base = np.tile([30.0, 25.0, 20.0, 25.0], (6, 6, 1)) * np.arange(1, 7)[:, None, None]
    base[:, -1, :] *= 2
    pool = m.group_pool(base)
    assert pool is not None and pool.overdispersion == pytest.approx(1e-6)
    ctx = m.MethodContext(aggregation="sum", is_count=True, pool=pool)
    empty = np.full(4, np.nan)
    assert m.pooled_level(base[2], empty, ctx) == pytest.approx(base[2, -1].sum())
    alone = np.tile([30.0, 25.0, 20.0, 25.0], (50, 6, 1))  # fifty flat kommuner
    alone[2, -1, :] *= 2
    pool = m.group_pool(alone)
    assert pool is not None
    ctx = m.MethodContext(aggregation="sum", is_count=True, pool=pool)
    first, last = alone[2, 0].sum(), alone[2, -1].sum()
    assert first < m.pooled_level(alone[2], empty, ctx) < 0.5 * (first + last)  # type: ignore[operator]


def test_pooled_level_on_an_earlier_history_uses_the_pool_of_that_time() -> None:
    """A re-forecast on hist[:-1] (the series' own past errors) drops the pool's last year: it
    equals the forecast made with the pool built one year earlier."""
    counts, _ = _poisson_group(4, n=40, years=9)
    full = m.group_pool(counts[:, :-1, :])
    earlier = m.group_pool(counts[:, :-2, :])
    assert full is not None and earlier is not None
    hist, cur = counts[7, :-2], _cur(counts[7, -2], 1)
    aligned = m.MethodContext(
        aggregation="sum",
        is_count=True,
        pool=m.GroupPool(full.totals, counts.shape[1] - 1, earlier.overdispersion),
    )
    direct = m.MethodContext(aggregation="sum", is_count=True, pool=earlier)
    assert m.pooled_level(hist, cur, aligned) == pytest.approx(m.pooled_level(hist, cur, direct))
    # and a history longer than the pool was made for cannot be aligned
    too_long = m.MethodContext(
        aggregation="sum", is_count=True, pool=m.GroupPool(full.totals, 3, 0.01)
    )
    assert m.pooled_level(counts[7, :-1], cur, too_long) is None


def test_pooled_level_applies_to_summed_counts_only() -> None:
    """Means, non-counts and once-a-year values get no pooled level; a group of fewer than five
    complete series gives no pool; a series without a pool is its own group."""
    counts, _ = _poisson_group(5, n=30)
    hist, cur = counts[0, :-1], _cur(counts[0, -1], 1)
    pool = m.group_pool(counts[:, :-1, :])
    for ctx in (
        m.MethodContext(aggregation="mean", is_count=True, pool=pool),
        m.MethodContext(aggregation="sum", is_count=False, pool=pool),
    ):
        assert m.pooled_level(hist, cur, ctx) is None
    assert m.pooled_level(hist[:, :1], cur[:1], m.MethodContext(is_count=True, pool=pool)) is None
    assert m.group_pool(counts[:4, :-1, :]) is None
    alone = m.pooled_level(hist, cur, m.MethodContext(aggregation="sum", is_count=True))
    assert alone is not None and np.isfinite(alone) and alone >= np.nansum(cur)


def test_a_series_without_peers_has_no_pool_and_no_warning() -> None:
    """A local register has no peers in any kommun: no pool, and no 'mean of empty slice'
    warning in an analyst's notebook."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert m.group_pool(np.zeros((0, 5, 4))) is None
