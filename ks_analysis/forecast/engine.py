"""Forecast engine: one indicator's full-year value at a cutoff, from only what was published by ``as_of``.

Full year = the published part of the year + a forecast of the rest (``methods``); the 80 % and
95 % intervals and the predictive draws come from calibrated backtest errors (``calibration``)
scaled to the series, or, where too few pooled errors exist, from the series' own past errors
widened conservatively (flagged ``few_calibration_errors``).

The report path (:func:`forecast_indicator`) and the backtest (``ks_analysis.backtest.replay``)
share the steps here: the fallback ladder (:func:`ladder_point`), the pooled seasonal profile
(:func:`seasonal_profile`) and the error pools a series calibrates against (:func:`error_bands`).
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ks_analysis import periods
from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast import methods as m
from ks_analysis.forecast import nowcast as nc
from ks_analysis.forecast import series as sr
from ks_analysis.forecast.series import series_matrix, yearly_values
from ks_analysis.goals.catalogue import Indicator

__all__ = [
    "Forecast",
    "MatrixForecast",
    "LadderPoint",
    "yearly_values",
    "series_matrix",
    "forecast_indicator",
    "forecast_from_matrix",
    "ladder_point",
    "method_ladder",
    "seasonal_profile",
    "error_bands",
    "default_method",
    "cutoff_kind",
    "family_of",
    "N_SAMPLES",
]

#: Draws of the full-year value kept per forecast.
N_SAMPLES = 2000
#: Fallback ladder per family: the first method that gives a forecast wins; its index is the rung.
LADDER_SUBYEAR = ("ytd_snaive", "ytd_ratio", "naive_annual")
LADDER_ANNUAL = ("naive_annual",)
#: An 80 % interval wider than this many times the level is flagged ``wide_interval``.
WIDE_INTERVAL = 2.0
#: Years since the last known full year beyond which no forecast is made (election KPIs: 4).
MAX_HORIZON = 4


@dataclass(frozen=True)
class Forecast:
    """A full-year forecast (or outcome) of one indicator, municipality and gender, at a cutoff."""

    municipality: str
    indicator: str
    gender: str
    year: int
    cutoff: dt.date
    as_of: dt.date
    frequency: str
    aggregation: str
    basis: str  # "forecast", "outcome" or "none"
    known_periods: int
    total_periods: int
    known_value: float | None
    point: float | None
    lo80: float | None
    hi80: float | None
    lo95: float | None
    hi95: float | None
    method: str
    rung: int
    flags: tuple[str, ...]
    last_year: int | None
    last_value: float | None
    history: pd.Series = field(repr=False, compare=False)
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)
    ort: str | None = None
    unit: str = ""
    scale: float | None = None  # the series' mean absolute year-on-year change (MASE scale)
    calibration: str = ""  # which error pool set the interval
    #: The year an increase/decrease target compares with: year - 1 when it is known at as_of;
    #: None (flag ``reference_year_unknown``) when it is not, since comparing with an older year
    #: would judge a different change than the target's.
    reference_year: int | None = None
    #: Why an annual KPI with an in-year signal (catalogue ``nowcast:``) was not nowcast, e.g.
    #: "no sub-period of 2019 of the signal is published yet"; empty when it was, or has none.
    nowcast_note: str = ""

    @property
    def has_value(self) -> bool:
        """Whether the forecast has a value (basis is not 'none')."""
        return self.point is not None


@dataclass(frozen=True)
class MatrixForecast:
    """The engine's result for one series-year: basis, point, intervals, method, draws."""

    basis: str  # "forecast", "outcome" or "none"
    point: float | None
    lo80: float | None
    hi80: float | None
    lo95: float | None
    hi95: float | None
    method: str
    rung: int
    flags: tuple[str, ...] = ()
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)
    scale: float | None = None
    calibration: str = ""


@dataclass(frozen=True)
class LadderPoint:
    """The point forecast of the fallback ladder: value (None when no rung gives one), method, rung."""

    point: float | None
    method: str
    rung: int


# --------------------------------------------------------------------------- shared steps


def cutoff_kind(cutoff: dt.date) -> str:
    """'T1', 'T2' or 'Y': the calibration cell of a forecast date (the first report cutoff on or after it)."""
    return periods.kind_at_or_after(cutoff)


def family_of(frequency: str) -> str:
    """Backtest family of a frequency: 'monthly', 'quarterly' or 'annual'."""
    return {"M": "monthly", "Q": "quarterly"}.get(frequency, "annual")


def default_method(
    frequency: str, aggregation: str, cutoff: str | None = None, origin_year: int | None = None
) -> str:
    """The default method for a series (see the calibration summary for why).

    Sub-annual series take the method the backtest's rolling-origin selection chose for their
    family, cutoff ('T1', 'T2', 'Y') and aggregation, else the family's default; chosen on
    forecast years before ``origin_year`` (None: every backtest year).
    """
    d = cal.default_methods(origin_year=origin_year)
    if frequency == "Y" or aggregation in ("point", "last"):
        return d.get("annual", "naive_annual") if frequency == "Y" else "ytd_snaive"
    family = family_of(frequency)
    if cutoff is not None:
        chosen = cal.default_by_cell(origin_year=origin_year).get(
            f"{family}|{cutoff}|{aggregation}"
        )
        if chosen in m.METHODS:
            return str(chosen)
    return d.get(family, "ytd_snaive")


def method_ladder(requested: str, periods_per_year: int) -> tuple[str, ...]:
    """The methods tried in order: the requested one, then the family's fallbacks not yet tried."""
    fallbacks = LADDER_SUBYEAR if periods_per_year > 1 else LADDER_ANNUAL
    return (requested,) + tuple(x for x in fallbacks if x != requested)


def ladder_point(
    requested: str, hist: np.ndarray, cur: np.ndarray, ctx: m.MethodContext
) -> LadderPoint:
    """The first method of :func:`method_ladder` that gives a finite forecast, and its rung."""
    ladder = method_ladder(requested, cur.shape[0])
    for rung, name in enumerate(ladder):
        fn = m.METHODS.get(name)
        if fn is None:
            raise ValueError(f"unknown forecast method {name!r}; use one of {', '.join(m.METHODS)}")
        value = fn(hist, cur, ctx)
        if value is not None and np.isfinite(value):
            return LadderPoint(float(value), name, rung)
    return LadderPoint(None, requested, len(ladder))


def seasonal_profile(block: np.ndarray) -> np.ndarray | None:
    """Mean share of the year per sub-period over the complete, positive rows of ``block`` (series-years x P)."""
    block = block[~np.isnan(block).any(axis=1)]
    block = block[block.sum(axis=1) > 0]
    if block.shape[0] == 0:
        return None
    prof = (block / block.sum(axis=1, keepdims=True)).mean(axis=0)
    return prof / prof.sum()


def error_bands(
    family: str,
    *,
    aggregation: str,
    is_count: bool,
    years: np.ndarray,
    indicator: str = "",
    pop_band: str = "unknown",
    horizon: int = 1,
    trend: str | None = None,
) -> list[str]:
    """The error pools a series calibrates against, most specific first (horizon capped at 2 years;
    ``trend``: :func:`ks_analysis.forecast.calibration.trend_label` of an annual series)."""
    return cal.pool_bands(
        family,
        aggregation=aggregation,
        is_count=is_count,
        years=years,
        indicator=indicator,
        pop_band=pop_band,
        horizon=min(horizon, 2),
        trend=trend,
    )


# --------------------------------------------------------------------------- the engine


def _outcome(cur: np.ndarray, agg: str) -> MatrixForecast | None:
    """The year's value when the cutoff already knows it (all sub-periods, or the last of a point value)."""
    known = ~np.isnan(cur)
    if known.all():
        val: float | None = m.aggregate_year(cur, agg)
    elif agg in ("last", "point") and cur.shape[0] > 1 and known[-1]:
        val = float(cur[-1])
    else:
        return None
    return MatrixForecast("outcome", val, val, val, val, val, "outcome", 0)


def _none(method: str, rung: int, flags: tuple[str, ...]) -> MatrixForecast:
    """No forecast: too little history."""
    return MatrixForecast("none", None, None, None, None, None, method, rung, flags)


def forecast_from_matrix(
    hist: np.ndarray,
    cur: np.ndarray,
    *,
    aggregation: str,
    frequency: str,
    cutoff: dt.date,
    method: str | None = None,
    is_count: bool = False,
    indicator: str = "",
    pop_band: str = "unknown",
    seasonal_share: np.ndarray | None = None,
    unit: str = "",
    seed: int = 0,
    want_samples: bool = True,
    as_of: dt.date | None = None,
    pool: m.GroupPool | None = None,
) -> MatrixForecast:
    """The core shared by reports and backtest: point, intervals and draws for one series-year.

    Method choice, parameters and error pools come from the calibration of the origin year
    :func:`ks_analysis.forecast.calibration.origin_year` ``(cutoff, as_of)``: fitted on forecast
    years before it only, so a forecast made in 2019 uses nothing learnt from 2019 or later.
    The pooled errors are scaled by the series' own track record where that won in the backtest
    (:func:`ks_analysis.forecast.calibration.credibility_ratio`).

    Args:
        hist: previous years' sub-period values, ``(n_years, P)``, oldest first, NaN = unpublished.
        cur: the forecast year's sub-period values, ``(P,)``, NaN = not yet published.
        aggregation: the indicator's yearly aggregation (sum, mean, point, last).
        frequency: 'M', 'Q' or 'Y' (of the data).
        cutoff: the forecast date (decides T1/T2/Y calibration).
        method: a method id from :data:`ks_analysis.forecast.methods.METHODS`, or None for the default.
        as_of: the date the data are cut at (None: ``cutoff``); the earlier year of the two is
            the calibration's origin year.
        pool: the yearly totals of the series' peers (:func:`ks_analysis.forecast.methods.group_pool`),
            for the pooled-level methods; aligned here to ``hist``'s rows.
    """
    agg = aggregation if frequency != "Y" else "point"
    done = _outcome(cur, agg)
    if done is not None:
        return done
    origin = cal.origin_year(cutoff, as_of)
    ctx = cal.method_context(
        frequency,
        agg,
        is_count,
        seasonal_share=seasonal_share,
        indicator=indicator,
        origin_year=origin,
    )
    if pool is not None:
        ctx = replace(ctx, pool=replace(pool, n_hist=hist.shape[0]))
    requested = method or default_method(frequency, aggregation, cutoff_kind(cutoff), origin)
    lp = ladder_point(requested, hist, cur, ctx)
    if lp.point is None:
        return _none(requested, lp.rung, ("no_history",))
    flags: list[str] = ["fallback"] if lp.rung > 0 else []
    point = lp.point
    years = m.yearly_from_matrix(hist, agg) if hist.shape[0] else np.zeros(0)
    family = family_of(frequency)
    scale = cal.series_scale(years, point, is_count, subyear=family != "annual")
    floor = 0.0
    if family == "annual":
        # the floor the backtest applied before pooling: a series near zero does not turn an
        # ordinary change into an error of hundreds of scale units
        floor = cal.scale_floor(indicator, pop_band, origin_year=origin)
        scale = max(scale, floor)
    # Horizon for annual series: the value of `year` from the last known year (Kolada lags).
    lf = np.flatnonzero(np.isfinite(years))
    horizon = int(hist.shape[0] - lf[-1]) if lf.size else 1
    if horizon > MAX_HORIZON and not (~np.isnan(cur)).any():
        # Nothing of the year and nothing for years: no forecast (e.g. a KPI that was retired).
        return _none(lp.method, lp.rung, (*flags, "stale_history"))
    trend = cal.trend_label(float(cal.steadiness(years)[0])) if family == "annual" else None
    bands = error_bands(
        family, aggregation=agg, is_count=is_count, years=years, indicator=indicator,
        pop_band=pop_band, horizon=horizon, trend=trend,
    )  # fmt: skip
    key = cal.CalibrationKey(family, cutoff_kind(cutoff), lp.method, bands[0])
    errors, source = _errors(
        key, bands, hist, cur, ctx, years, scale, horizon, flags, origin=origin, floor=floor
    )
    draws = point + scale * np.quantile(errors, np.random.default_rng(seed).random(N_SAMPLES))
    draws = _truncated_draws(draws, hist, cur, agg, is_count=is_count, unit=unit, flags=flags)
    lo_p, hi_p = possible_range(hist, cur, agg, is_count=is_count, unit=unit)
    point = float(min(max(point, lo_p), hi_p))
    q = np.quantile(draws, [0.025, 0.10, 0.90, 0.975])
    lo95, lo80, hi80, hi95 = (float(x) for x in q)
    lo80, lo95 = min(lo80, point), min(lo95, lo80, point)
    hi80, hi95 = max(hi80, point), max(hi95, hi80, point)
    fin_years = years[np.isfinite(years)]
    level = max(abs(point), abs(float(fin_years[-1])) if fin_years.size else 0.0)
    if hi80 - lo80 > WIDE_INTERVAL * level:
        flags.append("wide_interval")  # implausibly wide for the level: the report should say so
    return MatrixForecast(
        "forecast", float(point), lo80, hi80, lo95, hi95, lp.method, lp.rung, tuple(flags),
        samples=draws if want_samples else None, scale=scale, calibration=source,
    )  # fmt: skip


def _errors(
    key: cal.CalibrationKey,
    bands: list[str],
    hist: np.ndarray,
    cur: np.ndarray,
    ctx: m.MethodContext,
    years: np.ndarray,
    scale: float,
    horizon: int,
    flags: list[str],
    *,
    origin: int | None = None,
    floor: float = 0.0,
) -> tuple[np.ndarray, str]:
    """The scaled errors that set the interval and their source; appends the flags they earn.

    A pool stored with credibility parameters holds errors divided by each series' own ratio:
    they are multiplied by this series' ratio λ from its own last years' errors (source
    ``pool|lam=0.83``).
    """
    errors, source, n = cal.scaled_errors(key, bands=bands, origin_year=origin)
    # no two consecutive known years: not scaled like the pools
    no_pairs = m.mase_scale(years) is None  # (None does not depend on the floor)
    if np.isfinite(years).sum() < 3 or no_pairs:
        # The pools hold errors scaled by at least two year-on-year changes; with a shorter
        # history the scale itself is unsure, so widen as if few errors were known.
        flags.append("short_history")
        errors = None
    pooled = errors is not None and n >= cal.MIN_POOLED
    if not pooled:
        # The series' own past errors already span its usual gaps (e.g. four years between elections).
        own = cal.own_scaled_errors(hist, cur, ctx, key.method, scale)
        errors, source, n = cal.combine_small(own, errors if errors is not None else np.zeros(0))
        flags.append("few_calibration_errors")
    elif errors is not None:
        cred = cal.pool_credibility(source, origin_year=origin)
        if cred is not None and cred.k is not None:
            own = cal.own_abs_errors(hist, cur, ctx, key.method, floor)
            mean_own = float(np.mean(np.minimum(own, cred.cap))) if own.size else 0.0
            lam = float(cal.credibility_ratio(own.size, mean_own, cred))
            errors = np.asarray(errors, dtype="float64") * lam
            source = f"{source}|lam={lam:.2f}"
    assert errors is not None  # set by the pool or by combine_small
    if horizon > 1 and cur.shape[0] == 1:
        flags.append(f"horizon_{horizon}")
        if horizon > 2 and pooled:
            # pools hold one- and two-year-ahead errors; further ahead, widen like a random walk
            errors = errors * np.sqrt(horizon / 2)
    return errors, source


#: Below this share of draws inside the possible range, the distribution is clipped, not truncated.
MIN_INSIDE_SHARE = 0.02


def possible_range(
    hist: np.ndarray, cur: np.ndarray, agg: str, *, is_count: bool, unit: str
) -> tuple[float, float]:
    """The range the year's value can take, given what is known.

    A series that has never been negative (or a count) stays >= 0; a share in per cent, or an
    index on a 0-100 scale, stays <= 100 where it has always been. With known sub-periods: a
    year's sum cannot end below its year to date, and a yearly mean of P sub-periods lies between
    (known sum + remaining × lowest possible) / P and (known sum + remaining × highest possible) / P.
    """
    seen = np.r_[hist.ravel(), cur]
    seen = seen[np.isfinite(seen)]
    nonneg = is_count or (seen.size > 0 and bool(np.all(seen >= 0)))
    capped = unit.strip() in ("%", "index") and seen.size > 0 and bool(np.all(seen <= 100))
    lo_one, hi_one = (0.0 if nonneg else -np.inf), (100.0 if capped else np.inf)
    known = np.isfinite(cur)
    if agg == "sum" and known.any():
        done = float(cur[known].sum())
        rest = int((~known).sum())
        return (done + rest * lo_one if nonneg else -np.inf), (
            done + rest * hi_one if capped else np.inf
        )
    if agg == "mean" and known.any():
        done, rest, n = float(cur[known].sum()), int((~known).sum()), cur.shape[0]
        return (done + rest * lo_one) / n, (done + rest * hi_one) / n
    return lo_one, hi_one


def _truncated_draws(
    draws: np.ndarray,
    hist: np.ndarray,
    cur: np.ndarray,
    agg: str,
    *,
    is_count: bool,
    unit: str,
    flags: list[str],
) -> np.ndarray:
    """The predictive draws truncated to the possible range (:func:`possible_range`).

    Truncation conditions the distribution on what is possible: the draws inside the range are
    kept and re-spread over as many quantiles as there were draws, so the mass outside moves
    proportionally inside instead of piling up on the bound. Only when almost nothing is inside
    (under MIN_INSIDE_SHARE) are the draws clipped, with the flag ``range_clipped``.
    """
    lo, hi = possible_range(hist, cur, agg, is_count=is_count, unit=unit)
    if not (np.isfinite(lo) or np.isfinite(hi)):
        return draws
    inside = draws[(draws >= lo) & (draws <= hi)]
    if inside.size == draws.size:
        return draws
    if inside.size < MIN_INSIDE_SHARE * draws.size:
        flags.append("range_clipped")
        return np.clip(draws, lo, hi)
    order = np.argsort(np.argsort(draws))  # keep each draw's rank, so the draws stay shuffled
    spread = np.quantile(inside, (np.arange(draws.size) + 0.5) / draws.size)
    return np.asarray(spread[order])


def forecast_indicator(
    tidy: pd.DataFrame,
    *,
    municipality: str,
    indicator: Indicator,
    gender: str,
    year: int,
    cutoff: dt.date,
    as_of: dt.date,
    ort: str | None = None,
    method: str | None = None,
    signal: Forecast | None = None,
) -> Forecast:
    """Forecast one indicator's full-year value for ``year`` from the rows published by ``as_of``.

    ``ort=None`` with a per-ort indicator forecasts the total over all orter; ``ort='HOK'`` the
    series ``f"{indicator.id}__HOK"``. ``signal`` is the forecast of the indicator's in-year proxy
    (``indicator.signal``); with ``method='signal_ratio'`` an annual value is last value × the
    signal's forecast ratio of this year to last year. Does not change ``tidy``.
    """
    # Over 80 lines only because the Forecast contract's ~30 fields are set here by name.
    if indicator.latest_known:
        return _latest_known(tidy, municipality, indicator, gender, year, cutoff, as_of)
    freq, by_year, unit = series_matrix(
        tidy, municipality=municipality, indicator=indicator, gender=gender, as_of=as_of, ort=ort
    )
    P = m.PERIODS_PER_YEAR[freq]
    agg = indicator.aggregation if freq != "Y" else "point"
    hist = sr.hist_matrix(by_year, year, P)
    cur = sr.mask_after_cutoff(by_year.get(year, np.full(P, np.nan)), year, cutoff)
    history = sr.history(hist, agg, min(by_year) if by_year else year)
    known = ~np.isnan(cur)
    seed = zlib.crc32(f"{municipality}|{indicator.id}|{gender}|{year}|{cutoff}|{ort}".encode())
    count = sr.is_count(unit, np.concatenate([hist.ravel(), cur]) if hist.size else cur)
    if method == "signal_ratio":
        res = _signal_ratio(
            hist, cur, signal, agg=agg, freq=freq, cutoff=cutoff, is_count=count, seed=seed,
            as_of=as_of,
        )  # fmt: skip
    else:
        pop_band = cal.population_band(sr.population(tidy, municipality, as_of))
        share = (
            seasonal_profile(sr.peer_block(tidy, indicator, gender, year, as_of, freq))
            if P > 1
            else None
        )
        pool = (
            m.group_pool(sr.peer_panel(tidy, indicator, gender, year, as_of, freq, m.POOL_YEARS))
            if P > 1 and count and agg == "sum"
            else None
        )
        res = forecast_from_matrix(
            hist, cur, aggregation=indicator.aggregation, frequency=freq, cutoff=cutoff,
            method=None if method == nc.METHOD else method, is_count=count,
            seed=seed, indicator=indicator.id, pop_band=pop_band, seasonal_share=share,
            unit=unit or indicator.unit, as_of=as_of, pool=pool,
        )  # fmt: skip
    nowcast_note = ""
    if (
        indicator.nowcast is not None
        and freq == "Y"
        and method in (None, nc.METHOD)
        and ort is None
    ):
        res, nowcast_note = _nowcast(tidy, res, indicator, municipality, gender, year, as_of, seed)
    flags = res.flags
    reference_year = year - 1 if (year - 1) in history.index else None
    if (
        reference_year is None
        and indicator.target.type in ("increase", "decrease")
        and res.basis != "none"
    ):
        flags = (*flags, "reference_year_unknown")
    return Forecast(
        municipality=municipality,
        indicator=indicator.id if ort is None else f"{indicator.id}__{ort}",
        gender=gender,
        year=year,
        cutoff=cutoff,
        as_of=as_of,
        frequency=freq,
        aggregation=agg,
        basis=res.basis,
        known_periods=int(known.sum()),
        total_periods=P,
        known_value=sr.known_value(cur, agg),
        point=res.point,
        lo80=res.lo80,
        hi80=res.hi80,
        lo95=res.lo95,
        hi95=res.hi95,
        method=res.method,
        rung=res.rung,
        flags=flags,
        last_year=int(history.index[-1]) if len(history) else None,
        last_value=float(history.iloc[-1]) if len(history) else None,
        history=history,
        samples=res.samples,
        ort=ort,
        unit=unit,
        scale=res.scale,
        calibration=res.calibration,
        reference_year=reference_year,
        nowcast_note=nowcast_note,
    )


def _nowcast(
    tidy: pd.DataFrame,
    base: MatrixForecast,
    indicator: Indicator,
    municipality: str,
    gender: str,
    year: int,
    as_of: dt.date,
    seed: int,
) -> tuple[MatrixForecast, str]:
    """The bridge nowcast of an annual KPI from its in-year signal, or ``base`` and the reason there is none.

    Only a forecast is replaced: an outcome stays an outcome, and a KPI without history stays 'none'.
    """
    if base.basis != "forecast":
        return base, ""
    spec = indicator.nowcast
    assert spec is not None
    data = nc.nowcast_data(tidy, indicator.id, spec.signal, spec.mapping, gender=gender)
    if data is None:
        why = f"no in-year signal {spec.signal} for gender {gender} in the data"
        return replace(base, flags=(*base.flags, "nowcast_unavailable")), why
    res = nc.nowcast(data, municipality, year, as_of, n_samples=N_SAMPLES, seed=seed)
    if res.point is None:
        return replace(base, flags=(*base.flags, "nowcast_unavailable")), res.reason
    flags = tuple(f for f in base.flags if f not in ("few_calibration_errors", "fallback"))
    return (
        replace(
            base,
            point=res.point,
            lo80=res.lo80,
            hi80=res.hi80,
            lo95=res.lo95,
            hi95=res.hi95,
            method=nc.METHOD,
            rung=0,
            flags=(*flags, *res.flags),
            samples=res.samples,
            calibration=res.calibration,
        ),  # fmt: skip
        "",
    )


def _latest_known(
    tidy: pd.DataFrame,
    municipality: str,
    indicator: Indicator,
    gender: str,
    year: int,
    cutoff: dt.date,
    as_of: dt.date,
) -> Forecast:
    """An indicator whose year is its latest known observation (the latest election's turnout):
    an outcome, compared with the observation before it. Flag ``latest_of_<year>``."""
    values = sr.yearly_values(
        tidy, municipality=municipality, indicator=indicator, gender=gender, as_of=as_of
    )
    values = values[values.index <= year]
    _, _, unit = series_matrix(
        tidy, municipality=municipality, indicator=indicator, gender=gender, as_of=as_of
    )
    basis, point = ("outcome", float(values.iloc[-1])) if len(values) else ("none", None)
    prev = values.iloc[:-1]
    return Forecast(
        municipality=municipality, indicator=indicator.id, gender=gender, year=year, cutoff=cutoff,
        as_of=as_of, frequency="Y", aggregation="point", basis=basis, known_periods=1 if point is not None else 0,
        total_periods=1, known_value=point, point=point, lo80=point, hi80=point, lo95=point,
        hi95=point, method="latest_known", rung=0,
        flags=(f"latest_of_{int(values.index[-1])}",) if len(values) else ("no_history",),
        last_year=int(prev.index[-1]) if len(prev) else None,
        last_value=float(prev.iloc[-1]) if len(prev) else None,
        history=values, unit=unit,
        reference_year=int(prev.index[-1]) if len(prev) else None,
    )  # fmt: skip


def _signal_ratio(
    hist: np.ndarray,
    cur: np.ndarray,
    signal: Forecast | None,
    *,
    agg: str,
    freq: str,
    cutoff: dt.date,
    is_count: bool,
    seed: int,
    as_of: dt.date | None = None,
) -> MatrixForecast:
    """Annual value = last value × (signal's forecast for the year ÷ its last full year)."""
    base = forecast_from_matrix(
        hist,
        cur,
        aggregation=agg,
        frequency=freq,
        cutoff=cutoff,
        method="naive_annual",
        is_count=is_count,
        seed=seed,
        as_of=as_of,
    )
    if base.basis != "forecast" or signal is None or signal.point is None or not signal.last_value:
        return base
    years = m.yearly_from_matrix(hist, "point")
    lf = np.flatnonzero(np.isfinite(years))
    if lf.size == 0 or signal.samples is None:
        return base
    last = float(years[lf[-1]])
    ratio = signal.samples / signal.last_value
    draws = last * ratio
    q = np.quantile(draws, [0.025, 0.10, 0.90, 0.975])
    point = float(last * signal.point / signal.last_value)
    return replace(
        base,
        point=point,
        lo95=float(min(q[0], point)),
        lo80=float(min(q[1], point)),
        hi80=float(max(q[2], point)),
        hi95=float(max(q[3], point)),
        samples=draws,
        method="signal_ratio",
        flags=(*base.flags, "signal_uncalibrated"),
    )
