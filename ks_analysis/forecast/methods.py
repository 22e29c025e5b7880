"""Forecast methods on one series: full year = the published part + a forecast of the rest.

Every method works on plain numpy arrays so that the report and the backtest share one code
path: ``hist`` is an ``(n_years, P)`` array of the previous years' sub-period values (oldest
first, NaN where not published), ``cur`` a ``(P,)`` array of the forecast year (NaN where not yet
published), with ``P`` = 12 (monthly), 4 (quarterly) or 1 (yearly). A method returns the point
forecast of the full-year value, or None when it cannot be used (the caller then falls back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = [
    "PERIODS_PER_YEAR",
    "METHODS",
    "SUBYEAR_METHODS",
    "ANNUAL_METHODS",
    "MethodContext",
    "aggregate_year",
    "yearly_from_matrix",
    "naive_annual",
    "ytd_snaive",
    "ytd_ratio",
    "credibility",
    "cred_level",
    "count_level",
    "yoy_carry",
    "GroupPool",
    "group_pool",
    "POOL_YEARS",
    "pooled_level",
    "ets_remainder",
    "ets_fit",
    "ETS_FIT_ALPHAS",
    "ETS_FIT_GAMMAS",
    "ses_pooled",
    "mean_of",
    "mase_scale",
    "REL_SCALE_FLOOR",
    "REL_SCALE_FLOOR_SUBYEAR",
    "rel_scale_floor",
]

PERIODS_PER_YEAR = {"M": 12, "Q": 4, "Y": 1}


@dataclass(frozen=True)
class MethodContext:
    """What a method may know besides the series itself: pooled parameters from peers or the backtest.

    ``seasonal_share`` is a pooled share of the year per sub-period (sums to 1), ``damping`` the
    weight on the series' own profile against the pooled one, ``ses_alpha`` the smoothing weight
    shared over peers, ``ets_params`` the fixed ETS smoothing weights, ``pool`` the yearly
    totals and overdispersion of the series' peer group (:func:`group_pool`, for
    :func:`pooled_level`).
    """

    aggregation: str = "sum"
    is_count: bool = False
    seasonal_share: np.ndarray | None = None
    damping: float = 0.5
    ses_alpha: float = 0.5
    ets_params: tuple[float, float] = (0.2, 0.1)
    extra: dict[str, float] = field(default_factory=dict)
    pool: GroupPool | None = None


def aggregate_year(values: np.ndarray, aggregation: str) -> float:
    """The full-year value of one complete row of sub-period values (NaN if incomplete).

    >>> aggregate_year(np.array([1.0, 2.0, 3.0, 4.0]), "sum")
    10.0
    >>> aggregate_year(np.array([1.0, 2.0, 3.0, 4.0]), "mean")
    2.5
    """
    v = np.asarray(values, dtype="float64")
    if v.size == 0 or np.isnan(v).any():
        return float("nan")
    if aggregation == "sum":
        return float(v.sum())
    if aggregation == "mean":
        return float(v.mean())
    return float(v[-1])  # point / last: the value at the end of the year


def yearly_from_matrix(mat: np.ndarray, aggregation: str) -> np.ndarray:
    """Full-year values of each row of ``mat`` (NaN where a row is incomplete)."""
    if mat.size == 0:
        return np.zeros(0)
    complete = ~np.isnan(mat).any(axis=1)
    out = np.full(mat.shape[0], np.nan)
    if aggregation == "sum":
        out[complete] = mat[complete].sum(axis=1)
    elif aggregation == "mean":
        out[complete] = mat[complete].mean(axis=1)
    else:
        out[complete] = mat[complete, -1]
    return out


#: A series' scale is at least this share of its last value: for an annual KPI it only guards a
#: series that hardly ever changed (a scale of almost nothing would turn an ordinary change into
#: hundreds of scale units), and must not bind for a smooth series, whose own small changes are
#: its honest scale. At 2 % it tripled a growing kommun's population scale (about 0.7 % a year)
#: and with it every population interval. Annual KPIs also get the calibrated floor of their
#: KPI and size band (``forecast.calibration.scale_floor``).
REL_SCALE_FLOOR = 0.002
#: The same floor for sub-annual series (yearly sums and means of months or quarters), which
#: have no calibrated floor: on the real quarterly series the backtest's 80 % interval score
#: was 3 % worse (CI90 excluding 1) with the annual floor than with this one.
REL_SCALE_FLOOR_SUBYEAR = 0.02


def mase_scale(
    years: np.ndarray, recent: int = 6, rel_floor: float = REL_SCALE_FLOOR
) -> float | None:
    """Mean absolute year-on-year change over the last ``recent`` consecutive pairs of known years.

    Recent changes, because a series' volatility drifts and the scale sets interval widths.
    Floored at ``rel_floor`` of the last value (:data:`REL_SCALE_FLOOR` for annual KPIs,
    :data:`REL_SCALE_FLOOR_SUBYEAR` for sub-annual series); None for a constant or too short
    history (fewer than two consecutive known years), which cannot scale an error.
    """
    y = np.asarray(years, dtype="float64")
    d = np.abs(np.diff(y))
    d = d[np.isfinite(d)][-recent:]
    if d.size == 0:
        return None
    fin = y[np.isfinite(y)]
    s = max(float(d.mean()), rel_floor * abs(float(fin[-1])))
    return s if s > 1e-9 else None


def rel_scale_floor(subyear: bool) -> float:
    """The relative scale floor of a series: sub-annual (months or quarters) or annual."""
    return REL_SCALE_FLOOR_SUBYEAR if subyear else REL_SCALE_FLOOR


def _last_finite(a: np.ndarray) -> tuple[int, float] | None:
    idx = np.flatnonzero(~np.isnan(a))
    if idx.size == 0:
        return None
    return int(idx[-1]), float(a[idx[-1]])


def _to_full(total_sum: float, P: int, aggregation: str) -> float:
    return total_sum / P if aggregation == "mean" else total_sum


# --------------------------------------------------------------------------- baselines


def naive_annual(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """Last complete year's value (for a stock, 'last': the latest published sub-period)."""
    if ctx.aggregation == "last" and hist.shape[1] > 1:
        return ytd_snaive(hist, cur, ctx)
    years = yearly_from_matrix(hist, ctx.aggregation)
    lf = _last_finite(years)
    return None if lf is None else lf[1]


def ytd_snaive(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """Year to date + last year's values for the remaining sub-periods (what a spreadsheet does).

    For a stock ('last' aggregation) the latest published value carries forward.
    """
    P = cur.shape[0]
    if P == 1:
        return naive_annual(hist, cur, ctx)
    if ctx.aggregation in ("last", "point"):
        lf = _last_finite(cur)
        if lf is not None:
            return lf[1]
        if hist.shape[0] == 0:
            return None
        lf = _last_finite(hist[-1])
        return None if lf is None else lf[1]
    if hist.shape[0] == 0:
        return None
    known = ~np.isnan(cur)
    last = hist[-1]
    if np.isnan(last[~known]).any():
        return None
    filled = np.where(known, cur, last)
    return aggregate_year(filled, ctx.aggregation)


def _own_share(hist: np.ndarray, known: np.ndarray, years: int = 5) -> float | None:
    """Share of the year in the ``known`` sub-periods, from the series' own recent complete years."""
    rows = hist[~np.isnan(hist).any(axis=1)][-years:]
    if rows.shape[0] == 0:
        return None
    tot = rows.sum()
    if tot <= 0:
        return None
    return float(rows[:, known].sum() / tot)


def _share(hist: np.ndarray, known: np.ndarray, ctx: MethodContext) -> float:
    """Damped seasonal share of the known sub-periods: own profile, pooled profile and uniform."""
    P = known.shape[0]
    uniform = known.sum() / P
    pooled = float(ctx.seasonal_share[known].sum()) if ctx.seasonal_share is not None else uniform
    own = _own_share(hist, known)
    if own is None:
        return pooled
    return float(ctx.damping * own + (1 - ctx.damping) * pooled)


def _year_so_far(cur: np.ndarray, ctx: MethodContext) -> tuple[bool, float | None]:
    """``(done, value)`` for the in-year methods: done with None when the method does not apply
    (a yearly series, or an aggregation other than sum/mean) or nothing of the year is published,
    done with the year's value when all of it is published; else not done."""
    if cur.shape[0] == 1 or ctx.aggregation not in ("sum", "mean"):
        return True, None
    known = ~np.isnan(cur)
    if known.all():
        return True, aggregate_year(cur, ctx.aggregation)
    if not known.any():
        return True, None
    return False, None


def ytd_ratio(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """Year to date divided by the usual (pooled, damped) share of the year in those sub-periods."""
    P = cur.shape[0]
    done, value = _year_so_far(cur, ctx)
    if done:
        return value
    known = ~np.isnan(cur)
    s = _share(hist, known, ctx)
    if s <= 0:
        return None
    return _to_full(float(np.nansum(cur)) / s, P, ctx.aggregation)


# --------------------------------------------------------------------------- credibility


def credibility(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """Credibility blend of the year-to-date rate and last year's level (see :func:`_credibility`)."""
    return _credibility(hist, cur, ctx, filtered_prior=False)


def cred_level(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """Credibility blend whose prior is a noise-filtered level rather than last year's total.

    For counts, last year's total carries Poisson noise that does not persist; the prior level is
    exponential smoothing of the yearly totals with the steady-state gain of a local-level model
    whose signal-to-noise ratio is estimated from the series' own year-on-year changes
    (:func:`count_level`). Before any sub-period of the year is published the forecast is that
    level. For non-counts it equals :func:`credibility` (and last year's value before any
    sub-period is published).
    """
    P = cur.shape[0]
    if P == 1 or ctx.aggregation not in ("sum", "mean"):
        return None
    if not (~np.isnan(cur)).any():
        if hist.shape[0] == 0 or np.isnan(hist[-1]).any():
            return None
        lev = count_level(hist) if ctx.is_count else None
        return _to_full(lev if lev is not None else float(hist[-1].sum()), P, ctx.aggregation)
    return _credibility(hist, cur, ctx, filtered_prior=True)


def count_level(hist: np.ndarray, years: int = 8) -> float | None:
    """Noise-filtered yearly level of a count series (sum space), or None without a usable history.

    Local level + Poisson noise: year-on-year changes have variance ``q + 2m`` (``m`` the level,
    ``q`` the true level's yearly change variance), so ``q`` = var(changes) - 2m and the
    steady-state Kalman gain for signal-to-noise ``s = q/m`` is ``(-s + sqrt(s^2 + 4s)) / 2``,
    floored at 0.3 so a level shift is followed within a few years.
    """
    ok = ~np.isnan(hist).any(axis=1)
    start = hist.shape[0]
    while start > 0 and ok[start - 1]:
        start -= 1
    totals = hist[start:].sum(axis=1)[-years:]
    if totals.size < 3 or (totals < 0).any():
        return None
    m = max(float(np.mean(totals[-3:])), 1.0)
    q = max(float(np.var(np.diff(totals), ddof=1)) - 2 * m, 0.0)
    sn = q / m
    gain = float(np.clip((-sn + np.sqrt(sn * sn + 4 * sn)) / 2, 0.3, 1.0))
    level = float(totals[0])
    for v in totals[1:]:
        level = gain * float(v) + (1 - gain) * level
    return level


def yoy_carry(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """Year to date + last year's remaining sub-periods scaled by the latest year-on-year ratio.

    The ratio is that of the last (up to three) published sub-periods to the same sub-periods last
    year: a level such as the number of unemployed keeps its recent distance to last year.
    """
    if hist.shape[0] == 0:
        return None
    done, value = _year_so_far(cur, ctx)
    if done:
        return value
    known = ~np.isnan(cur)
    last = hist[-1]
    if np.isnan(last).any():
        return None
    idx = np.flatnonzero(known)[-3:]
    den = float(last[idx].sum())
    num = float(cur[idx].sum())
    if den <= 0 or num < 0:
        return None
    filled = np.where(known, cur, last * (num / den))
    return aggregate_year(filled, ctx.aggregation)


# --------------------------------------------------------------------------- pooled level


#: Years of a peer group's history :func:`group_pool` looks at (as :func:`count_level`).
POOL_YEARS = 8
#: A group pool needs this many series complete in every one of its years.
POOL_MIN_SERIES = 5


@dataclass(frozen=True)
class GroupPool:
    """What a series' peer group (the same count in every kommun and län) says about its level.

    ``totals`` are the group's yearly totals over the series complete in each of the last
    ``len(totals)`` years before the forecast year (a balanced panel, so a total moves only with
    the counts, not with which series report), the last one the year before the forecast year;
    ``n_hist`` is the number of history rows of the forecast the pool was made for (a re-forecast
    of an earlier year on ``hist[:j]`` drops the pool's last years to stay aligned).
    ``overdispersion`` is σ², the variance of a series' yearly share of the group total beyond
    Poisson noise relative to its squared level: year-on-year changes of a series' counts deflated
    by the group's own change have variance ``2m + σ²m²`` at level ``m``. It is the exposure-weighted
    moment estimator over the group, Σ(d² − 2m) / Σm², of the Bühlmann–Straub credibility model
    (Bühlmann & Gisler 2005, ch. 4), a negative-binomial (Poisson–gamma) overdispersion.
    """

    totals: np.ndarray
    n_hist: int
    overdispersion: float


def group_pool(block: np.ndarray) -> GroupPool | None:
    """The :class:`GroupPool` of a peer group's ``block`` (series x years x P, oldest year first,
    the last year the one before the forecast year, NaN = not published), or None.

    Only the trailing years in which at least half of the series are complete are used (at most
    :data:`POOL_YEARS`), and only series complete in all of them; None with fewer than three such
    years, fewer than :data:`POOL_MIN_SERIES` such series, a negative value or a zero total.
    """
    if block.ndim != 3 or block.shape[0] == 0 or block.shape[1] == 0:
        return None  # no peers at all (e.g. a local register): nothing to pool
    block = block[:, -POOL_YEARS:, :]
    complete = np.isfinite(block).all(axis=2)
    wide = complete.mean(axis=0) > 0.5
    start = wide.size
    while start > 0 and wide[start - 1]:
        start -= 1
    if wide.size - start < 3:
        return None
    keep = complete[:, start:].all(axis=1)
    if keep.sum() < POOL_MIN_SERIES:
        return None
    yearly = block[keep, start:, :].sum(axis=2)  # series x years
    if (yearly < 0).any():
        return None
    totals = yearly.sum(axis=0)
    if (totals <= 0).any():
        return None
    deflated = yearly * (totals[-1] / totals)
    level = deflated.mean(axis=1, keepdims=True)
    d = np.diff(deflated, axis=1)
    num = float((d * d).sum() - 2.0 * (level * d.shape[1]).sum())
    den = float((level * level).sum() * d.shape[1])
    od = max(num / den, 1e-6) if den > 0 else 1e-6
    return GroupPool(totals=totals.astype("float64"), n_hist=-1, overdispersion=od)


def pooled_level(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """Year to date + the rest of the year at the series' expected level, pooled over its group.

    For a small count (new firms in one kommun), last year's rest of the year carries Poisson
    noise that does not persist. The series' yearly counts are deflated by its group's yearly
    totals (``ctx.pool``, :func:`group_pool`) to the group's level of last year, so the common
    year-to-year movements of all kommuner are not mistaken for this kommun's own. A local-level
    filter of the deflated counts (Poisson noise ``m``, share drift ``σ² m²`` with the group's
    overdispersion σ²) gives the expected level; its steady-state gain is the credibility weight,
    small for a small count, near 1 for a large one, floored at 0.3 as in :func:`count_level`.
    The year's published sub-periods then update the level with the credibility weight
    ``Z = V / (V + L / s)`` (``V`` the level's predictive variance, ``L / s`` the Poisson variance
    of the year implied by the year to date in a share ``s`` of the year), and the rest of the
    year is ``(1 - s)`` times the updated level. The group's own change this year is taken as
    zero: on the real data neither the group's first-quarter change nor a smoothed group level
    predicted it (see docs/backtest.md). A series without a pool (no peers, e.g. one län alone)
    is its own group: its counts are not deflated and σ² comes from its own changes. Counts
    summed over the year only; None otherwise, or with fewer than three complete years.
    """
    P = cur.shape[0]
    if P == 1 or ctx.aggregation != "sum" or not ctx.is_count:
        return None
    done, value = _year_so_far(cur, ctx)
    known = ~np.isnan(cur)
    if done and known.any():
        return value
    found = _deflated_years(hist, ctx.pool)
    if found is None:
        return None
    deflated, od = found
    m = max(float(np.mean(deflated[-3:])), 1.0)
    sn = od * m
    gain = float(np.clip((-sn + np.sqrt(sn * sn + 4 * sn)) / 2, 0.3, 1.0))
    level = float(deflated[0])
    for v in deflated[1:]:
        level = gain * float(v) + (1 - gain) * level
    if not known.any():
        return level
    s = _share(hist, known, ctx)
    if s <= 0 or s >= 1:
        return None
    ytd = float(np.nansum(cur))
    var_level = gain * m + od * m * m  # filtered + one year's share drift
    z = var_level / (var_level + max(level, 1.0) / s)
    updated = (1 - z) * level + z * ytd / s
    return ytd + updated * (1 - s)


def _deflated_years(hist: np.ndarray, pool: GroupPool | None) -> tuple[np.ndarray, float] | None:
    """The series' complete yearly totals deflated to its group's level of last year, and the
    overdispersion σ² (the group's; without a pool, the series' own), or None."""
    if pool is None:
        ok = ~np.isnan(hist).any(axis=1)
        start = hist.shape[0]
        while start > 0 and ok[start - 1]:
            start -= 1
        own = hist[start:].sum(axis=1)[-POOL_YEARS:]
        if own.size < 3 or (own < 0).any():
            return None
        lev = max(float(own.mean()), 1.0)
        d = np.diff(own)
        return own, max((float(np.mean(d * d)) - 2 * lev) / lev**2, 1e-6)
    drop = (pool.n_hist - hist.shape[0]) if pool.n_hist >= 0 else 0
    if drop < 0 or drop >= pool.totals.size:
        return None
    totals = pool.totals[: pool.totals.size - drop]
    k = min(totals.size, hist.shape[0])
    rows = hist[hist.shape[0] - k :]
    totals = totals[totals.size - k :]
    ok = ~np.isnan(rows).any(axis=1)
    if ok.sum() < 3 or not ok[-1]:
        return None
    own = rows[ok].sum(axis=1)
    if (own < 0).any():
        return None
    return own * (totals[-1] / totals[ok]), pool.overdispersion


def _credibility(
    hist: np.ndarray, cur: np.ndarray, ctx: MethodContext, *, filtered_prior: bool
) -> float | None:
    """Credibility blend of the year-to-date rate and last year's level (Gamma–Poisson / Bühlmann).

    With counts, the annual rate has a Gamma prior centred on last year's total whose variance is
    the between-year variance beyond Poisson noise; the posterior mean after ``ytd`` events in an
    exposure ``s`` (seasonal share of the year) is ``(b*m + ytd) / (b + s)`` with ``b = m / var``,
    and the remainder is negative binomial with mean ``rate * (1 - s)``. For non-counts the same
    closed form uses Bühlmann's estimate of within- and between-year variance from past years.
    """
    P = cur.shape[0]
    done, value = _year_so_far(cur, ctx)
    if done:
        return value
    known = ~np.isnan(cur)
    if hist.shape[0] == 0:
        return None
    complete = hist[~np.isnan(hist).any(axis=1)]
    if complete.shape[0] == 0 or np.isnan(hist[-1]).any():
        return None
    s = _share(hist, known, ctx)
    if s <= 0 or s >= 1:
        return None
    m = float(hist[-1].sum())  # last year's total (in sum space)
    if filtered_prior and ctx.is_count:
        lev = count_level(hist)
        if lev is not None:
            m = lev
    ytd = float(np.nansum(cur))
    totals = complete.sum(axis=1)
    # Between-year variance of the level around last year's (from year-on-year changes).
    if totals.size >= 3:
        between = float(np.var(np.diff(totals), ddof=1)) / 2.0
    else:
        between = (0.15 * abs(m)) ** 2
    if ctx.is_count:
        between = max(between - max(m, 0.0), (0.05 * max(m, 1.0)) ** 2)
        within_per_year = max(m, 1.0)  # Poisson: variance = mean
        b = within_per_year / between
    else:
        # Within-year noise of the YTD-implied annual value, from past years at the same mask.
        implied = complete[:, known].sum(axis=1) / s
        within = float(np.mean((implied - totals) ** 2)) if totals.size >= 2 else between
        within = max(within, 1e-12)
        # within is the variance of ytd/s; for exposure s the Poisson analogue is w/s, so w = within*s.
        b = within * s / max(between, 1e-12)
    rate = (b * m + ytd) / (b + s)
    return _to_full(ytd + rate * (1 - s), P, ctx.aggregation)


# --------------------------------------------------------------------------- ETS


def ets_remainder(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """A small fixed ETS(A,N,A) on the sub-period series (square roots of counts), summed over the rest.

    Fixed smoothing weights (no optimisation): fast, and with short series less prone to overfit.
    Needs at least three complete years. (The tests cross-check it against statsmodels' ETSModel.)
    """
    return _ets_year(hist, cur, ctx, fitted=False)


def ets_fit(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """ETS(A,N,A) on the sub-period series (square roots of counts) with its smoothing weights
    fitted to the series' own complete years, summed over the rest of the year.

    The weights (level alpha, seasonal gamma) minimise the one-step-ahead squared errors over the
    last (up to eight) complete years, which for additive errors and the fixed initial states is
    the Gaussian maximum likelihood statsmodels' ``ETSModel`` fits; here over the grid
    :data:`ETS_FIT_ALPHAS` x :data:`ETS_FIT_GAMMAS` in one vectorised pass, since a numerical
    optimiser per series-year (about 0.1-0.6 s with statsmodels) would take the backtest's
    thousands of series-years far past its time budget. The fit uses complete years only, so
    the T1, T2 and December forecasts of a year share it (cached). The tests check the fit and
    the forecast against statsmodels' ``ETSModel``.
    """
    return _ets_year(hist, cur, ctx, fitted=True)


def _ets_year(
    hist: np.ndarray, cur: np.ndarray, ctx: MethodContext, *, fitted: bool
) -> float | None:
    """The full-year value from an ETS(A,N,A) of the sub-periods: fixed weights or fitted ones."""
    P = cur.shape[0]
    done, value = _year_so_far(cur, ctx)
    if done:
        return value
    known = ~np.isnan(cur)
    k = int(np.flatnonzero(known)[-1]) + 1
    if not known[:k].all():
        return None
    complete_rows = (~np.isnan(hist).any(axis=1)).sum()
    if complete_rows < 3:
        return None
    # contiguous stretch of years ending last year
    rows = hist
    ok = ~np.isnan(rows).any(axis=1)
    start = rows.shape[0]
    while start > 0 and ok[start - 1]:
        start -= 1
    rows = rows[start:]
    if rows.shape[0] < 3:
        return None
    rows = rows[-8:]
    y = np.concatenate([rows.ravel(), cur[:k]])
    transform = ctx.is_count and (y >= 0).all()
    z = np.sqrt(y) if transform else y
    h = P - k
    if fitted:
        weights = _ets_fit_weights(np.ascontiguousarray(z[: rows.size]).tobytes(), P)
    else:
        weights = (float(ctx.ets_params[0]), float(ctx.ets_params[1]))
    rem = _ets_rest(np.ascontiguousarray(z, dtype="float64").tobytes(), P, h, *weights, transform)
    return _to_full(float(cur[:k].sum()) + rem, P, ctx.aggregation)


@lru_cache(maxsize=8192)
def _ets_rest(z_bytes: bytes, P: int, h: int, alpha: float, gamma: float, transform: bool) -> float:
    """The ETS(A,N,A) forecast of the next ``h`` sub-periods of ``z`` (float64 bytes), summed;
    back-transformed from square roots with the residual variance when ``transform``.

    Cached: the combinations that share an ETS ask for the same series-year more than once.
    """
    z = np.frombuffer(z_bytes, dtype="float64")
    fc = _ets_ana_forecast(z, P, h, alpha, gamma)
    if transform:
        resid_var = _ets_resid_var(z, P, alpha, gamma)
        return float(np.sum(np.maximum(fc, 0) ** 2 + resid_var))
    return float(np.sum(fc))


#: The fitted ETS's grid of level weights alpha and seasonal weights gamma (the seasonal state
#: moves by gamma x (1 - alpha) of each error, statsmodels' ``smoothing_seasonal``).
ETS_FIT_ALPHAS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 0.95)
ETS_FIT_GAMMAS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7)
_GRID_A, _GRID_G = (a.ravel() for a in np.meshgrid(ETS_FIT_ALPHAS, ETS_FIT_GAMMAS, indexing="ij"))


@lru_cache(maxsize=8192)
def _ets_fit_weights(z_bytes: bytes, P: int) -> tuple[float, float]:
    """(alpha, gamma) of the grid with the least one-step-ahead squared error on complete years
    ``z`` (float64 bytes; the initial states of :func:`_ets_filter`), all candidates at once."""
    z = np.frombuffer(z_bytes, dtype="float64")
    years = z.reshape(-1, P)
    season0 = (years - years.mean(axis=1, keepdims=True)).mean(axis=0)
    level = np.full(_GRID_A.size, float(years[0].mean()))
    season = np.tile(season0, (_GRID_A.size, 1))
    gain = _GRID_G * (1 - _GRID_A)
    sse = np.zeros(_GRID_A.size)
    for t in range(z.size):
        i = t % P
        e = z[t] - (level + season[:, i])
        sse += e * e
        level = level + _GRID_A * e
        season[:, i] += gain * e
    best = int(np.argmin(sse))  # ties: the first, i.e. the smallest weights (the smoothest fit)
    return float(_GRID_A[best]), float(_GRID_G[best])


def _ets_filter(
    z: np.ndarray, P: int, alpha: float, gamma: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """ETS(A,N,A) recursions with fixed weights.

    Initial season: the mean deviation of each sub-period from its year's mean over all complete
    years in the sample (one year's profile alone is too noisy for small counts); initial level:
    the first year's mean.
    """
    n_full = z.size // P
    years = z[: n_full * P].reshape(n_full, P)
    season = (years - years.mean(axis=1, keepdims=True)).mean(axis=0)
    level = float(years[0].mean())
    resid = [0.0] * z.size
    s = season.tolist()  # plain floats: the loop is the hot path of the sub-annual backtest
    gain = gamma * (1 - alpha)
    for t, zt in enumerate(z.tolist()):
        i = t % P
        e = zt - (level + s[i])
        resid[t] = e
        level += alpha * e
        s[i] += gain * e
    return level, np.asarray(s), np.asarray(resid[P:])


def _ets_ana_forecast(z: np.ndarray, P: int, h: int, alpha: float, gamma: float) -> np.ndarray:
    level, s, _ = _ets_filter(z, P, alpha, gamma)
    n = z.size
    return np.array([level + s[(n + j) % P] for j in range(h)])


def _ets_resid_var(z: np.ndarray, P: int, alpha: float, gamma: float) -> float:
    _, _, r = _ets_filter(z, P, alpha, gamma)
    return float(np.var(r)) if r.size > 1 else 0.0


# --------------------------------------------------------------------------- annual


def ses_pooled(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
    """Simple exponential smoothing of the annual values with a smoothing weight shared over peers.

    With ``ctx.extra['trend_phi']`` (chosen per KPI by the backtest, e.g. inhabitants) the forecast
    is the last value plus phi times its last year-on-year step (when the year before it is known).
    """
    years = yearly_from_matrix(hist, ctx.aggregation if hist.shape[1] > 1 else "point")
    phi = float(ctx.extra.get("trend_phi", 0.0))
    if phi > 0:
        lf = _last_finite(years)
        if lf is None:
            return None
        i, last = lf
        step = last - float(years[i - 1]) if i >= 1 and np.isfinite(years[i - 1]) else 0.0
        return last + phi * step
    years = years[~np.isnan(years)]
    if years.size == 0:
        return None
    level = float(years[0])
    for v in years[1:]:
        level = ctx.ses_alpha * float(v) + (1 - ctx.ses_alpha) * level
    return level


def mean_of(
    *fns: Callable[[np.ndarray, np.ndarray, MethodContext], float | None],
) -> Callable[[np.ndarray, np.ndarray, MethodContext], float | None]:
    """A combination: the mean of the methods that give a forecast (None when none does)."""

    def combined(hist: np.ndarray, cur: np.ndarray, ctx: MethodContext) -> float | None:
        vals = [v for v in (f(hist, cur, ctx) for f in fns) if v is not None and np.isfinite(v)]
        if len(vals) < len(fns):
            return None
        return float(np.mean(vals))

    return combined


METHODS: dict[str, Callable[[np.ndarray, np.ndarray, MethodContext], float | None]] = {
    "naive_annual": naive_annual,
    "ytd_snaive": ytd_snaive,
    "ytd_ratio": ytd_ratio,
    "credibility": credibility,
    "ets_remainder": ets_remainder,
    "ses_pooled": ses_pooled,
    "cred_ets": mean_of(credibility, ets_remainder),
    "cred_level": cred_level,
    "yoy_carry": yoy_carry,
    "cred_level_ets": mean_of(cred_level, ets_remainder),
    "ets_fit": ets_fit,
    "cred_level_etsfit": mean_of(cred_level, ets_fit),
    "pooled_level": pooled_level,
    "pooled_level_ets": mean_of(pooled_level, ets_remainder),
}

#: Methods that make sense for monthly/quarterly series, and for once-a-year values.
SUBYEAR_METHODS = (
    "naive_annual",
    "ytd_snaive",
    "ytd_ratio",
    "credibility",
    "ets_remainder",
    "cred_ets",
    "cred_level",
    "yoy_carry",
    "cred_level_ets",
    "cred_level_etsfit",
    "pooled_level",
    "pooled_level_ets",
)
ANNUAL_METHODS = ("naive_annual", "ses_pooled")
