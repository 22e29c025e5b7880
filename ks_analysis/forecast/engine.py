"""Forecast: one indicator's full-year value at a cutoff, from only what was published by ``as_of``.

Full year = the published part of the year + a forecast of the rest (``methods``); the 80 % and
95 % intervals and the predictive draws come from calibrated backtest errors (``calibration``)
scaled to the series, or, where too few pooled errors exist, from the series' own past errors
widened conservatively (flagged ``few_calibration_errors``).
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast import methods as m
from ks_analysis.goals.catalogue import Indicator

__all__ = [
    "Forecast",
    "yearly_values",
    "series_matrix",
    "forecast_indicator",
    "forecast_from_matrix",
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

    @property
    def has_value(self) -> bool:
        return self.point is not None


# --------------------------------------------------------------------------- helpers


def cutoff_kind(cutoff: dt.date) -> str:
    """'T1' for a cutoff up to 30 April, 'T2' up to 31 August, else 'Y'."""
    if cutoff.month <= 4:
        return "T1"
    if cutoff.month <= 8:
        return "T2"
    return "Y"


def family_of(frequency: str) -> str:
    """Backtest family of a frequency: 'monthly', 'quarterly' or 'annual'."""
    return {"M": "monthly", "Q": "quarterly"}.get(frequency, "annual")


def default_method(frequency: str, aggregation: str, cutoff: str | None = None) -> str:
    """The default method for a series (see the calibration summary for why).

    Sub-annual series take the method the backtest's rolling-origin selection chose for their
    family, cutoff ('T1', 'T2', 'Y') and aggregation, else the family's default.
    """
    from ks_analysis.forecast.calibration import default_by_cell, default_methods

    d = default_methods()
    if frequency == "Y" or aggregation in ("point", "last"):
        return d.get("annual", "naive_annual") if frequency == "Y" else "ytd_snaive"
    family = family_of(frequency)
    if cutoff is not None:
        chosen = default_by_cell().get(f"{family}|{cutoff}|{aggregation}")
        if chosen in m.METHODS:
            return str(chosen)
    return d.get(family, "ytd_snaive")


def _sub_index(period: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(year, 0-based sub-period index) for canonical period strings."""
    p = period.astype("str")
    year = p.str.slice(0, 4).astype(int).to_numpy()
    idx = np.zeros(len(p), dtype=int)
    is_q = p.str.contains("-Q", regex=False).to_numpy()
    is_m = (p.str.len().eq(7) & ~p.str.contains("-Q", regex=False)).to_numpy()
    if is_q.any():
        idx[is_q] = p[is_q].str.slice(6, 7).astype(int).to_numpy() - 1
    if is_m.any():
        idx[is_m] = p[is_m].str.slice(5, 7).astype(int).to_numpy() - 1
    return year, idx


def _as_ts(d: dt.date) -> pd.Timestamp:
    return pd.Timestamp(d)


def _rows(
    tidy: pd.DataFrame,
    municipality: str,
    indicator: Indicator,
    gender: str,
    as_of: dt.date,
    ort: str | None,
) -> pd.DataFrame:
    """The rows of one series published by ``as_of`` (per-ort totals summed over orter)."""
    sel = tidy[(tidy["municipality"] == municipality) & (tidy["gender"] == gender)]
    sel = sel[pd.to_datetime(sel["published"]) <= _as_ts(as_of)]
    if ort is not None:
        return sel[sel["indicator"] == f"{indicator.id}__{ort}"]
    exact = sel[sel["indicator"] == indicator.id]
    if len(exact) or not indicator.per_ort:
        return exact
    parts = sel[sel["indicator"].str.startswith(f"{indicator.id}__")]
    if parts.empty:
        return parts
    # The total over orter: a period counts only when every ort seen by as_of has published it,
    # so a late ort does not make the total look small.
    n_orter = parts["indicator"].nunique()
    g = parts.groupby(["period", "frequency"], as_index=False).agg(
        value=("value", "sum"),
        n=("indicator", "nunique"),
        published=("published", "max"),
        unit=("unit", "first"),
    )
    g = g[g["n"] == n_orter].drop(columns="n")
    return g


def series_matrix(
    tidy: pd.DataFrame,
    *,
    municipality: str,
    indicator: Indicator,
    gender: str,
    as_of: dt.date,
    ort: str | None = None,
) -> tuple[str, dict[int, np.ndarray], str]:
    """One series as ``(frequency, {year: sub-period values with NaN for unpublished}, unit)``.

    Uses only rows with ``published <= as_of``. The catalogue's frequency is preferred; if the data
    only has another frequency, that one is used.
    """
    rows = _rows(tidy, municipality, indicator, gender, as_of, ort)
    unit = str(rows["unit"].iloc[0]) if len(rows) and "unit" in rows else indicator.unit
    if rows.empty:
        return indicator.frequency, {}, unit
    freqs = set(rows["frequency"])
    freq = (
        indicator.frequency
        if indicator.frequency in freqs
        else ("M" if "M" in freqs else "Q" if "Q" in freqs else "Y")
    )
    rows = rows[rows["frequency"] == freq]
    P = m.PERIODS_PER_YEAR[freq]
    years, idx = _sub_index(rows["period"])
    vals = rows["value"].to_numpy(dtype="float64")
    out: dict[int, np.ndarray] = {}
    for y, i, v in zip(years, idx, vals, strict=True):
        row = out.setdefault(int(y), np.full(P, np.nan))
        row[i] = v
    return freq, out, unit


def yearly_values(
    tidy: pd.DataFrame,
    *,
    municipality: str,
    indicator: Indicator,
    gender: str,
    as_of: dt.date,
    ort: str | None = None,
) -> pd.Series:
    """Full-year values known at ``as_of``: int year -> value (only complete years of sub-annual series).

    Does not change ``tidy``.
    """
    freq, by_year, _ = series_matrix(
        tidy, municipality=municipality, indicator=indicator, gender=gender, as_of=as_of, ort=ort
    )
    agg = indicator.aggregation if freq != "Y" else "point"
    out = {y: m.aggregate_year(v, agg) for y, v in sorted(by_year.items())}
    s = pd.Series({y: v for y, v in out.items() if np.isfinite(v)}, dtype="float64")
    s.index = s.index.astype(int)
    s.index.name = "year"
    return s


def _hist_matrix(by_year: dict[int, np.ndarray], year: int, P: int) -> np.ndarray:
    """Previous years as an (n_years, P) array, oldest first, contiguous with NaN rows for gaps."""
    prev = [y for y in by_year if y < year]
    if not prev:
        return np.zeros((0, P))
    first = min(prev)
    return np.vstack([by_year.get(y, np.full(P, np.nan)) for y in range(first, year)])


def _mask_after_cutoff(cur: np.ndarray, year: int, cutoff: dt.date) -> np.ndarray:
    """The forecast year's sub-periods that end by ``cutoff`` (NaN for later ones).

    A later ``as_of`` may bring values published late, or revisions, of periods up to the
    cutoff, never periods after it: a 'per 30 april' report knows at most January-April. A
    once-a-year value of the year ends on 31 December, so it is an outcome only at the year end.
    """
    P = cur.shape[0]
    out = np.array(cur, dtype="float64", copy=True)
    for i in range(P):
        end_month = (i + 1) * 12 // P
        end = (pd.Timestamp(year, end_month, 1) + pd.offsets.MonthEnd(0)).date()
        if end > cutoff:
            out[i] = np.nan
    return out


def _is_count(unit: str, values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    return (
        unit.strip().lower() in ("antal", "st", "count")
        and v.size > 0
        and bool(np.all(v >= 0) and np.allclose(v, np.round(v)))
    )


# --------------------------------------------------------------------------- the engine


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
) -> dict[str, object]:
    """The core shared by reports and backtest: point, intervals and draws for one series-year.

    Args:
        hist: previous years' sub-period values, ``(n_years, P)``, oldest first, NaN = unpublished.
        cur: the forecast year's sub-period values, ``(P,)``, NaN = not yet published.
        aggregation: the indicator's yearly aggregation (sum, mean, point, last).
        frequency: 'M', 'Q' or 'Y' (of the data).
        cutoff: the forecast date (decides T1/T2/Y calibration).
        method: a method id from :data:`ks_analysis.forecast.methods.METHODS`, or None for the default.

    Returns:
        A dict with basis, point, lo80, hi80, lo95, hi95, method, rung, flags, samples, scale, calibration.
    """
    from ks_analysis.forecast import calibration as cal

    agg = aggregation if frequency != "Y" else "point"
    P = cur.shape[0]
    known = ~np.isnan(cur)
    flags: list[str] = []
    if known.all():
        val = m.aggregate_year(cur, agg)
        return {
            "basis": "outcome",
            "point": val,
            "lo80": val,
            "hi80": val,
            "lo95": val,
            "hi95": val,
            "method": "outcome",
            "rung": 0,
            "flags": (),
            "samples": None,
            "scale": None,
            "calibration": "",
        }
    if agg in ("last", "point") and P > 1 and known[-1]:
        val = float(cur[-1])
        return {
            "basis": "outcome",
            "point": val,
            "lo80": val,
            "hi80": val,
            "lo95": val,
            "hi95": val,
            "method": "outcome",
            "rung": 0,
            "flags": (),
            "samples": None,
            "scale": None,
            "calibration": "",
        }
    ctx = cal.method_context(
        frequency, agg, is_count, seasonal_share=seasonal_share, indicator=indicator
    )
    requested = method or default_method(frequency, aggregation, cutoff_kind(cutoff))
    ladder = (requested,) + tuple(
        x for x in (LADDER_SUBYEAR if P > 1 else LADDER_ANNUAL) if x != requested
    )
    point = None
    used = requested
    rung = 0
    for i, name in enumerate(ladder):
        fn = m.METHODS.get(name)
        if fn is None:
            raise ValueError(f"unknown forecast method {name!r}; use one of {', '.join(m.METHODS)}")
        value = fn(hist, cur, ctx)
        if value is not None and np.isfinite(value):
            point, used, rung = float(value), name, i
            break
    if point is None:
        return {
            "basis": "none",
            "point": None,
            "lo80": None,
            "hi80": None,
            "lo95": None,
            "hi95": None,
            "method": requested,
            "rung": len(ladder),
            "flags": ("no_history",),
            "samples": None,
            "scale": None,
            "calibration": "",
        }
    if rung > 0:
        flags.append("fallback")
    years = m.yearly_from_matrix(hist, agg) if hist.shape[0] else np.zeros(0)
    scale = _scale(years, point, is_count)
    family = family_of(frequency)
    if family == "annual":
        # the floor the backtest applied before pooling: a series near zero does not turn an
        # ordinary change into an error of hundreds of scale units
        scale = max(scale, cal.scale_floor(indicator, pop_band))
    no_pairs = (
        m.mase_scale(years) is None
    )  # no two consecutive known years: not scaled like the pools
    # Horizon for annual series: the value of `year` from the last known year (Kolada lags).
    lf = np.flatnonzero(np.isfinite(years))
    horizon = int(hist.shape[0] - lf[-1]) if lf.size else 1
    if horizon > MAX_HORIZON and not known.any():
        # Nothing of the year and nothing for years: no forecast (e.g. a KPI that was retired).
        return {
            "basis": "none",
            "point": None,
            "lo80": None,
            "hi80": None,
            "lo95": None,
            "hi95": None,
            "method": used,
            "rung": rung,
            "flags": (*flags, "stale_history"),
            "samples": None,
            "scale": None,
            "calibration": "",
        }
    bands = cal.pool_bands(
        family,
        aggregation=agg,
        is_count=is_count,
        years=years,
        indicator=indicator,
        pop_band=pop_band,
        horizon=min(horizon, 2),
    )
    key = cal.CalibrationKey(family=family, cutoff=cutoff_kind(cutoff), method=used, band=bands[0])
    errors, source, n = cal.scaled_errors(key, bands=bands)
    if np.isfinite(years).sum() < 3 or no_pairs:
        # The pools hold errors scaled by at least two year-on-year changes; with a shorter
        # history the scale itself is unsure, so widen as if few errors were known.
        flags.append("short_history")
        errors = None
    pooled = errors is not None and n >= cal.MIN_POOLED
    if not pooled:
        # The series' own past errors already span its usual gaps (e.g. four years between elections).
        own = _own_scaled_errors(hist, cur, ctx, used, scale)
        errors, source, n = cal.combine_small(own, errors if errors is not None else np.zeros(0))
        flags.append("few_calibration_errors")
    if horizon > 1 and P == 1:
        flags.append(f"horizon_{horizon}")
        if (
            horizon > 2 and pooled
        ):  # pools hold one- and two-year-ahead errors; further ahead, widen like a random walk
            errors = errors * np.sqrt(horizon / 2)
    assert errors is not None  # set by the pool or by combine_small
    rng = np.random.default_rng(seed)
    u = rng.random(N_SAMPLES)
    draws = point + scale * np.quantile(errors, u)
    # The possible range: a series that has never been negative stays >= 0 (clipping draws to
    # the possible range can only raise coverage), a year's sum cannot end below its year to
    # date, and a share in per cent stays <= 100.
    seen = np.r_[hist.ravel(), cur]
    seen = seen[np.isfinite(seen)]
    nonneg = is_count or (seen.size > 0 and bool(np.all(seen >= 0)))
    if nonneg:
        lower = max(0.0, float(np.nansum(cur))) if agg == "sum" else 0.0
        draws = np.maximum(draws, lower)
    if unit.strip() == "%" and seen.size and bool(np.all(seen <= 100)):
        draws = np.minimum(draws, 100.0)
    q = np.quantile(draws, [0.025, 0.10, 0.90, 0.975])
    lo95, lo80, hi80, hi95 = (float(x) for x in q)
    lo80, lo95 = min(lo80, point), min(lo95, lo80, point)
    hi80, hi95 = max(hi80, point), max(hi95, hi80, point)
    fin_years = years[np.isfinite(years)]
    level = max(abs(point), abs(float(fin_years[-1])) if fin_years.size else 0.0)
    if hi80 - lo80 > WIDE_INTERVAL * level:
        flags.append("wide_interval")  # implausibly wide for the level: the report should say so
    return {
        "basis": "forecast",
        "point": float(point),
        "lo80": lo80,
        "hi80": hi80,
        "lo95": lo95,
        "hi95": hi95,
        "method": used,
        "rung": rung,
        "flags": tuple(flags),
        "samples": draws if want_samples else None,
        "scale": scale,
        "calibration": source,
    }


def _scale(years: np.ndarray, point: float, is_count: bool) -> float:
    """MASE scale (mean absolute year-on-year change); for a constant or one-year history 10 % of
    the level, and at least one unit for counts."""
    s = m.mase_scale(years)
    if s is not None:
        return s
    y = years[np.isfinite(years)]
    level = abs(float(y[-1])) if y.size else abs(point)
    return float(max(0.10 * level, 1.0 if is_count else 1e-6))


def _own_scaled_errors(
    hist: np.ndarray, cur: np.ndarray, ctx: m.MethodContext, method: str, scale: float
) -> np.ndarray:
    """The method's errors on this series' own past years at the same published mask, scaled."""
    known = ~np.isnan(cur)
    fn = m.METHODS[method]
    out = []
    for j in range(1, hist.shape[0]):
        row = hist[j]
        if np.isnan(row).any():
            continue
        actual = m.aggregate_year(row, ctx.aggregation if row.size > 1 else "point")
        past = hist[:j]
        masked = np.where(known, row, np.nan)
        try:
            f = fn(past, masked, ctx)
        except Exception:  # a method that cannot run on a short past simply gives no error
            f = None
        if f is not None and np.isfinite(f):
            out.append((actual - f) / scale)
    return np.asarray(out, dtype="float64")


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
    freq, by_year, unit = series_matrix(
        tidy, municipality=municipality, indicator=indicator, gender=gender, as_of=as_of, ort=ort
    )
    P = m.PERIODS_PER_YEAR[freq]
    agg = indicator.aggregation if freq != "Y" else "point"
    hist = _hist_matrix(by_year, year, P)
    cur = _mask_after_cutoff(by_year.get(year, np.full(P, np.nan)), year, cutoff)
    years = m.yearly_from_matrix(hist, agg) if hist.shape[0] else np.zeros(0)
    first = min(by_year) if by_year else year
    history = pd.Series(
        {first + i: float(v) for i, v in enumerate(years) if np.isfinite(v)}, dtype="float64"
    )
    history.index = history.index.astype(int)
    history.index.name = "year"
    last_year = int(history.index[-1]) if len(history) else None
    last_value = float(history.iloc[-1]) if len(history) else None
    known = ~np.isnan(cur)
    known_value = None
    if known.any():
        kv = cur[known]
        known_value = (
            float(kv.sum())
            if agg == "sum"
            else float(kv.mean())
            if agg == "mean"
            else float(kv[-1])
        )
    seed = zlib.crc32(f"{municipality}|{indicator.id}|{gender}|{year}|{cutoff}|{ort}".encode())
    count = _is_count(unit, np.concatenate([hist.ravel(), cur]) if hist.size else cur)
    if method == "signal_ratio":
        res = _signal_ratio(
            hist, cur, signal, agg=agg, freq=freq, cutoff=cutoff, is_count=count, seed=seed
        )
    else:
        pop_band = cal.population_band(_population(tidy, municipality, as_of))
        share = _peer_share(tidy, indicator, gender, year, as_of, freq) if P > 1 else None
        res = forecast_from_matrix(
            hist, cur, aggregation=indicator.aggregation, frequency=freq, cutoff=cutoff, method=method, is_count=count,
            seed=seed, indicator=indicator.id, pop_band=pop_band, seasonal_share=share, unit=unit,
        )  # fmt: skip
    flags: tuple[str, ...] = tuple(res["flags"])  # type: ignore[arg-type]
    reference_year = year - 1 if (year - 1) in history.index else None
    if (
        reference_year is None
        and indicator.target.type in ("increase", "decrease")
        and res["basis"] != "none"
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
        basis=str(res["basis"]),
        known_periods=int(known.sum()),
        total_periods=P,
        known_value=known_value,
        point=res["point"],  # type: ignore[arg-type]
        lo80=res["lo80"],  # type: ignore[arg-type]
        hi80=res["hi80"],  # type: ignore[arg-type]
        lo95=res["lo95"],  # type: ignore[arg-type]
        hi95=res["hi95"],  # type: ignore[arg-type]
        method=str(res["method"]),
        rung=int(res["rung"]),  # type: ignore[call-overload]
        flags=flags,
        last_year=last_year,
        last_value=last_value,
        history=history,
        samples=res["samples"],  # type: ignore[arg-type]
        ort=ort,
        unit=unit,
        scale=res["scale"],  # type: ignore[arg-type]
        calibration=str(res["calibration"]),
        reference_year=reference_year,
    )


def _population(tidy: pd.DataFrame, municipality: str, as_of: dt.date) -> float | None:
    """Latest published inhabitants (Kolada N01951) of the municipality, for its size band."""
    r = tidy[
        (tidy["indicator"] == "N01951")
        & (tidy["municipality"] == municipality)
        & (tidy["gender"] == "T")
    ]
    r = r[pd.to_datetime(r["published"]) <= _as_ts(as_of)]
    if r.empty:
        return None
    return float(r.sort_values("period")["value"].iloc[-1])


def _peer_share(
    tidy: pd.DataFrame,
    indicator: Indicator,
    gender: str,
    year: int,
    as_of: dt.date,
    freq: str,
    years: int = 5,
) -> np.ndarray | None:
    """Seasonal profile pooled over every municipality (and ort) with the indicator: mean of each
    complete series-year's shares over the last ``years`` years before ``year``, published by ``as_of``."""
    ids = tidy["indicator"]
    sel = tidy[
        ((ids == indicator.id) | ids.str.startswith(f"{indicator.id}__"))
        & (tidy["gender"] == gender)
        & (tidy["frequency"] == freq)
    ]
    sel = sel[pd.to_datetime(sel["published"]) <= _as_ts(as_of)]
    if sel.empty:
        return None
    y, i = _sub_index(sel["period"])
    P = m.PERIODS_PER_YEAR[freq]
    frame = pd.DataFrame(
        {
            "k": sel["municipality"].to_numpy() + sel["indicator"].to_numpy(),
            "y": y,
            "i": i,
            "v": sel["value"].to_numpy(),
        }
    )
    frame = frame[(frame["y"] < year) & (frame["y"] >= year - years)]
    if frame.empty:
        return None
    wide = frame.pivot_table(index=["k", "y"], columns="i", values="v", aggfunc="first").reindex(
        columns=range(P)
    )
    arr = wide.to_numpy(dtype="float64")
    arr = arr[~np.isnan(arr).any(axis=1)]
    arr = arr[arr.sum(axis=1) > 0]
    if arr.shape[0] == 0:
        return None
    prof = (arr / arr.sum(axis=1, keepdims=True)).mean(axis=0)
    return prof / prof.sum()


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
) -> dict[str, object]:
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
    )
    if (
        base["basis"] != "forecast"
        or signal is None
        or signal.point is None
        or not signal.last_value
    ):
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
    return {
        **base,
        "point": point,
        "lo95": float(min(q[0], point)),
        "lo80": float(min(q[1], point)),
        "hi80": float(max(q[2], point)),
        "hi95": float(max(q[3], point)),
        "samples": draws,
        "method": "signal_ratio",
        "flags": (*base["flags"], "signal_uncalibrated"),  # type: ignore[misc]
    }
