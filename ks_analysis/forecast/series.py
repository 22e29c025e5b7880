"""Series: one indicator's rows in the tidy table as a year x sub-period matrix, and its full years.

The row helpers the forecast engine reads a series with: which rows belong to a series at
``as_of`` (per-ort totals summed over orter), their sub-period positions, the previous years as
a matrix and the forecast year cut to what a cutoff can know.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ks_analysis.forecast import methods as m
from ks_analysis.goals.catalogue import Indicator

__all__ = [
    "series_matrix",
    "yearly_values",
    "sub_index",
    "hist_matrix",
    "mask_after_cutoff",
    "is_count",
    "population",
    "history",
    "known_value",
    "peer_block",
]


def sub_index(period: pd.Series) -> tuple[np.ndarray, np.ndarray]:
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
    """``d`` as a pandas Timestamp (for comparing with ``published``)."""
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
    years, idx = sub_index(rows["period"])
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


def hist_matrix(by_year: dict[int, np.ndarray], year: int, P: int) -> np.ndarray:
    """Previous years as an (n_years, P) array, oldest first, contiguous with NaN rows for gaps."""
    prev = [y for y in by_year if y < year]
    if not prev:
        return np.zeros((0, P))
    first = min(prev)
    return np.vstack([by_year.get(y, np.full(P, np.nan)) for y in range(first, year)])


def mask_after_cutoff(cur: np.ndarray, year: int, cutoff: dt.date) -> np.ndarray:
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


def is_count(unit: str, values: np.ndarray) -> bool:
    """Whether a series is a count: unit antal/st/count and every known value a non-negative integer."""
    v = values[np.isfinite(values)]
    return (
        unit.strip().lower() in ("antal", "st", "count")
        and v.size > 0
        and bool(np.all(v >= 0) and np.allclose(v, np.round(v)))
    )


def population(tidy: pd.DataFrame, municipality: str, as_of: dt.date) -> float | None:
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


def history(hist: np.ndarray, agg: str, first: int) -> pd.Series:
    """The previous years' full-year values known at the cutoff: int year -> value."""
    years = m.yearly_from_matrix(hist, agg) if hist.shape[0] else np.zeros(0)
    history = pd.Series(
        {first + i: float(v) for i, v in enumerate(years) if np.isfinite(v)}, dtype="float64"
    )
    history.index = history.index.astype(int)
    history.index.name = "year"
    return history


def known_value(cur: np.ndarray, agg: str) -> float | None:
    """The year to date: the sum, mean or last of the sub-periods published (None before any)."""
    known = ~np.isnan(cur)
    if not known.any():
        return None
    kv = cur[known]
    return float(kv.sum()) if agg == "sum" else float(kv.mean()) if agg == "mean" else float(kv[-1])


def peer_block(
    tidy: pd.DataFrame,
    indicator: Indicator,
    gender: str,
    year: int,
    as_of: dt.date,
    freq: str,
    years: int = 5,
) -> np.ndarray:
    """Every municipality's (and ort's) series-years of the indicator over the last ``years`` years
    before ``year``, published by ``as_of``, as rows of sub-period values (for a pooled seasonal profile)."""
    ids = tidy["indicator"]
    sel = tidy[
        ((ids == indicator.id) | ids.str.startswith(f"{indicator.id}__"))
        & (tidy["gender"] == gender)
        & (tidy["frequency"] == freq)
    ]
    sel = sel[pd.to_datetime(sel["published"]) <= pd.Timestamp(as_of)]
    P = m.PERIODS_PER_YEAR[freq]
    if sel.empty:
        return np.zeros((0, P))
    y, i = sub_index(sel["period"])
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
        return np.zeros((0, P))
    wide = frame.pivot_table(index=["k", "y"], columns="i", values="v", aggfunc="first").reindex(
        columns=range(P)
    )
    return wide.to_numpy(dtype="float64")
