"""Backtest family "nowcast": annual KPIs forecast from their in-year signal at T1 and T2.

For every annual KPI of the goal catalogue with a ``nowcast:`` entry, every kommun with both the
KPI and the signal (the 12 largest kommuner, Östergötlands län and riket in Linköping's quarterly
file) and every forecast year, the bridge of :mod:`ks_analysis.forecast.nowcast` is fitted at the
cutoff from what was published by then and scored against the KPI as published (Kolada). Where
the bridge cannot be used (e.g. at T1 no quarter of the year is out yet), the forecast falls back
to the naive value, as the report does, and the record says why (``fallback``); the fallback
share is part of the cell.

Scores are those of the package's other cells: MASE against ``naive_annual`` (last year's value
known at the cutoff), with the scale of each series' mean absolute year-on-year change known at
the cutoff, coverage of the 80 %/95 % intervals, and the Brier skill of P(better than last year).
Every ratio gets a 90 % year-block bootstrap interval (years resampled with replacement, so that
kommuner hit by the same year's shock stay together), and every cell its effective number of
independent forecasts (Kish's design effect for clusters of KPI x year). 2020 is reported apart.

An outcome the data do not hold is not invented, with one exception that is exact: for a
``year_end_stock`` KPI (folkmängd 31/12) without a Kolada value the signal's last sub-period
(folkmängd at the end of Q4) is the outcome; SOURCES.md checks Q4 = N01951 for every year both have.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis import periods
from ks_analysis.backtest.design import MIN_JUDGED, SHOCK_YEARS
from ks_analysis.forecast import nowcast as nc
from ks_analysis.goals.catalogue import Catalogue, Indicator, load_catalogue

__all__ = [
    "NOWCAST_CUTOFFS",
    "NOWCAST_YEARS",
    "nowcast_indicators",
    "nowcast_tidy",
    "nowcast_records",
    "nowcast_cells",
    "effective_n",
    "block_bootstrap_ratio",
    "run_nowcast_backtest",
]

NOWCAST_CUTOFFS = ("T1", "T2")
NOWCAST_YEARS = range(2013, 2025)
BOOTSTRAP_DRAWS = 2000
#: Fewest scaled errors a KPI x year cluster needs for the intra-cluster correlation.
_SCALE_PAIRS = 6


def nowcast_indicators(catalogue: Catalogue | None = None) -> list[Indicator]:
    """The catalogue's annual KPIs that name an in-year signal."""
    cat = catalogue or load_catalogue()
    return [i for _, i in cat.indicators() if i.nowcast is not None]


def nowcast_tidy(raw_root: Path, sources_file: Path | None, ids: set[str]) -> pd.DataFrame:
    """The tidy rows (with ``published``) of the KPIs and signals ``ids``, cleaned from the raw folder."""
    from ks_analysis.clean import clean_indicators
    from ks_analysis.ingest.memo import read_sources_once

    raw, specs, _ = read_sources_once(raw_root, sources_file)  # the replay read it already
    raw = raw[raw["indicator"].astype("str").isin(ids)]
    return clean_indicators(raw, specs).tidy


def _scale(kpi_at: np.ndarray, t: int) -> np.ndarray:
    """Per kommun: mean absolute year-on-year change of the KPI over the last known pairs before ``t``."""
    d = np.abs(np.diff(kpi_at[:, :t], axis=1))
    out = np.full(kpi_at.shape[0], np.nan)
    for i in range(kpi_at.shape[0]):
        di = d[i][np.isfinite(d[i])][-_SCALE_PAIRS:]
        if di.size >= 2:
            out[i] = di.mean()
    return np.where(out > 1e-9, out, np.nan)


def _outcome(data: nc.NowcastData, t: int) -> np.ndarray:
    """The KPI of year index ``t`` as published at the latest; the Q4 stock where it is exact."""
    out = data.kpi[:, t].copy()
    if data.mapping == "year_end_stock":
        q4 = data.sig[:, t, data.P - 1]
        out = np.where(np.isfinite(out), out, q4)
    return out


def nowcast_records(
    tidy: pd.DataFrame,
    indicators: list[Indicator],
    *,
    years: range = NOWCAST_YEARS,
    cutoffs: tuple[str, ...] = NOWCAST_CUTOFFS,
) -> pd.DataFrame:
    """One row per KPI x kommun x year x cutoff x method ('nowcast_bridge' with its fallback, 'naive_annual')."""
    recs: list[dict[str, Any]] = []
    for ind in indicators:
        assert ind.nowcast is not None
        data = nc.nowcast_data(tidy, ind.id, ind.nowcast.signal, ind.nowcast.mapping)
        if data is None:
            continue
        sign = 1.0 if ind.higher_is_better else -1.0
        for year in years:
            t = year - data.y0
            if t < 2 or t >= data.kpi.shape[1]:
                continue
            actual = _outcome(data, t)
            for kind in cutoffs:
                cutoff = periods.cutoff_of(year, kind)
                kpi_at, _ = data.at(cutoff)
                scale = _scale(kpi_at, t)
                fits: dict[tuple[int, int], nc.NowcastFit | None] = {}
                for k, muni in enumerate(data.municipalities):
                    if not (np.isfinite(actual[k]) and np.isfinite(scale[k])):
                        continue
                    known = np.flatnonzero(np.isfinite(kpi_at[k, :t]))
                    if known.size == 0 or np.isfinite(kpi_at[k, t]) or t - known[-1] > 2:
                        continue
                    last = float(kpi_at[k, known[-1]])
                    res = nc.nowcast(data, muni, year, cutoff, fits=fits, seed=k * 7919 + year)
                    base = {
                        "family": "nowcast", "cutoff": kind, "year": year, "indicator": ind.id,
                        "municipality": muni, "series": f"{muni}|{ind.id}|T", "actual": float(actual[k]),
                        "scale": float(scale[k]), "last": last, "sign": sign, "horizon": int(t - known[-1]),
                    }  # fmt: skip
                    naive_p_better = 0.5
                    recs.append(
                        {**base, "method": "naive_annual", "point": last, "p_better": naive_p_better,
                         "lo80": np.nan, "hi80": np.nan, "lo95": np.nan, "hi95": np.nan,
                         "fallback": "", "known": 0, "flagged": True}
                    )  # fmt: skip
                    if res.point is None or res.samples is None:
                        recs.append(
                            {**base, "method": nc.METHOD, "point": last, "p_better": np.nan,
                             "lo80": np.nan, "hi80": np.nan, "lo95": np.nan, "hi95": np.nan,
                             "fallback": res.reason, "known": res.known_periods, "flagged": True}
                        )  # fmt: skip
                        continue
                    p_better = float(np.mean(sign * (res.samples - last) > 0))
                    raw80 = res.unwidened80 or (np.nan, np.nan)
                    recs.append(
                        {**base, "method": nc.METHOD, "point": res.point, "p_better": p_better,
                         "lo80": res.lo80, "hi80": res.hi80, "lo95": res.lo95, "hi95": res.hi95,
                         "lo80_unwidened": raw80[0], "hi80_unwidened": raw80[1],
                         "fallback": "", "known": res.known_periods,
                         "flagged": "few_calibration_errors" in res.flags}
                    )  # fmt: skip
    out = pd.DataFrame.from_records(recs)
    if len(out):
        out["better"] = (out["sign"] * (out["actual"] - out["last"]) > 0).astype(float)
        out["ae"] = (out["actual"] - out["point"]).abs() / out["scale"]
    return out


def effective_n(d: pd.DataFrame, cluster: list[str] | None = None) -> float:
    """Kish's effective sample size of scaled errors clustered by KPI x year: n / (1 + (m - 1) * rho).

    ``rho`` is the one-way ANOVA intra-cluster correlation of the signed scaled errors (floored
    at 0), ``m`` the mean cluster size. Forecasts of kommuner hit by the same year's shock are
    not independent; this says how many independent ones they are worth.
    """
    cluster = cluster or ["indicator", "year"]
    if len(d) < 2:
        return float(len(d))
    e = (d["actual"] - d["point"]) / d["scale"]
    g = e.groupby([d[c] for c in cluster])
    sizes = g.size().to_numpy(dtype=float)
    k, n = len(sizes), float(sizes.sum())
    if k < 2 or n <= k:
        return float(k)
    means = g.mean().to_numpy()
    grand = float(e.mean())
    msb = float((sizes * (means - grand) ** 2).sum() / (k - 1))
    msw = float(((e - g.transform("mean")) ** 2).sum() / (n - k))
    m0 = (n - (sizes**2).sum() / n) / (k - 1)
    rho = (msb - msw) / (msb + (m0 - 1) * msw) if (msb + (m0 - 1) * msw) > 0 else 0.0
    rho = min(max(rho, 0.0), 1.0)
    return float(n / (1 + (sizes.mean() - 1) * rho))


def block_bootstrap_ratio(
    num: pd.Series,
    den: pd.Series,
    years: pd.Series,
    *,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 12,
) -> tuple[float, list[float] | None]:
    """mean(num) / mean(den) and its 90 % year-block bootstrap interval (years drawn with replacement)."""
    ratio = float(num.mean() / den.mean()) if den.mean() > 0 else float("nan")
    uniq = np.unique(years.to_numpy())
    if len(uniq) < 3:
        return ratio, None
    by = {y: (float(num[years == y].sum()), float(den[years == y].sum())) for y in uniq}
    sums = np.array([by[y] for y in uniq])
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(uniq), size=(draws, len(uniq)))
    tot = sums[pick].sum(axis=1)
    r = tot[:, 0] / np.where(tot[:, 1] > 0, tot[:, 1], np.nan)
    lo, hi = np.nanquantile(r, [0.05, 0.95])
    return ratio, [float(lo), float(hi)]


def _brier_skill(d: pd.DataFrame) -> float | None:
    """1 - Brier / Brier of the base rate (the package's definition)."""
    if len(d) == 0:
        return None
    brier = float(np.mean((d["p_better"] - d["better"]) ** 2))
    base = float(d["better"].mean())
    ref = base * (1 - base)
    return float(1 - brier / ref) if ref > 0 else None


#: The "last five years" of the coverage figures (the forecast years with a calibrated nowcast).
LAST_YEARS = 5


def _covered(d: pd.DataFrame, level: str) -> float | None:
    """Share of outcomes inside the ``level`` (80 / 95) % intervals of ``d`` (None when empty)."""
    if d.empty:
        return None
    return float(((d["actual"] >= d[f"lo{level}"]) & (d["actual"] <= d[f"hi{level}"])).mean())


def _covered_ci90(d: pd.DataFrame, level: str) -> list[float] | None:
    """The year-block bootstrap 90 % interval of :func:`_covered`."""
    from ks_analysis.backtest.score import coverage_ci90

    if d.empty:
        return None
    hits = ((d["actual"] >= d[f"lo{level}"]) & (d["actual"] <= d[f"hi{level}"])).to_numpy()
    return coverage_ci90(d["year"].to_numpy(), hits)


def _widening_cost(d: pd.DataFrame) -> dict[str, Any]:
    """Mean scaled 80 % interval (Winkler) scores of the calibrated nowcasts ``d``: the intervals
    as used (widened for a new year) and from the bridge's residuals as they are, with the ratio
    and its year-block 90 % interval (what the widening costs in sharpness, or gains)."""
    from ks_analysis.backtest.score import interval_score, ratio_ci90

    out: dict[str, Any] = {
        "interval_score80": None,
        "interval_score80_unwidened": None,
        "interval_score_vs_unwidened": None,
        "interval_score_vs_unwidened_ci90": None,
    }
    if d.empty or "lo80_unwidened" not in d:
        return out
    a, sc = d["actual"].to_numpy(dtype="float64"), d["scale"].to_numpy(dtype="float64")
    new = (
        interval_score(d["lo80"].to_numpy(dtype="float64"), d["hi80"].to_numpy(dtype="float64"), a)
        / sc
    )
    old = (
        interval_score(
            d["lo80_unwidened"].to_numpy(dtype="float64"),
            d["hi80_unwidened"].to_numpy(dtype="float64"),
            a,
        )
        / sc
    )
    ok = np.isfinite(new) & np.isfinite(old)
    if not ok.any():
        return out
    years = d["year"].to_numpy()[ok]
    out["interval_score80"] = float(new[ok].mean())
    out["interval_score80_unwidened"] = float(old[ok].mean())
    out["interval_score_vs_unwidened"] = (
        float(new[ok].sum() / old[ok].sum()) if old[ok].sum() > 0 else None
    )
    out["interval_score_vs_unwidened_ci90"] = ratio_ci90(years, new[ok], old[ok])
    return out


def _ratio_block(now: pd.DataFrame, naive: pd.DataFrame) -> dict[str, Any]:
    """n, effective n, MASE vs naive with its block-bootstrap interval, Brier skill, coverage."""
    j = now.merge(
        naive[["indicator", "municipality", "year", "ae"]],
        on=["indicator", "municipality", "year"],
        suffixes=("", "_naive"),
    )
    ratio, ci = block_bootstrap_ratio(j["ae"], j["ae_naive"], j["year"])
    cal = j[j["p_better"].notna() & ~j["flagged"].astype(bool)]
    nowcasts = j[j["p_better"].notna()]
    out: dict[str, Any] = {
        "n": int(len(j)),
        "effective_n": round(effective_n(j), 1),
        "mase": float(j["ae"].mean()) if len(j) else None,
        "mase_vs_naive_annual": ratio,
        "mase_vs_naive_annual_ci90": ci,
        "brier_skill": _brier_skill(nowcasts),
        "n_nowcast": int(len(nowcasts)),
        "fallback_share": float(1 - len(nowcasts) / len(j)) if len(j) else None,
        "coverage80_calibrated": float(((cal["actual"] >= cal["lo80"]) & (cal["actual"] <= cal["hi80"])).mean()) if len(cal) else None,
        "coverage95_calibrated": float(((cal["actual"] >= cal["lo95"]) & (cal["actual"] <= cal["hi95"])).mean()) if len(cal) else None,
        "n_calibrated": int(len(cal)),
        "effective_n_calibrated": round(effective_n(cal), 1),
        "coverage80_calibrated_ci90": _covered_ci90(cal, "80"),
        "coverage95_calibrated_ci90": _covered_ci90(cal, "95"),
    }  # fmt: skip
    last = sorted(int(y) for y in cal["year"].unique())[-LAST_YEARS:]
    recent = cal[cal["year"].isin(last)]
    out["coverage_calibrated_last5"] = {
        "years": last,
        "n": int(len(recent)),
        "effective_n": round(effective_n(recent), 1),
        "coverage80": _covered(recent, "80"),
        "coverage95": _covered(recent, "95"),
        "coverage80_ci90": _covered_ci90(recent, "80"),
        "coverage95_ci90": _covered_ci90(recent, "95"),
    }
    out.update(_widening_cost(cal))
    if len(nowcasts):
        r2, ci2 = block_bootstrap_ratio(nowcasts["ae"], nowcasts["ae_naive"], nowcasts["year"])
        out["mase_vs_naive_annual_where_nowcast"] = r2
        out["mase_vs_naive_annual_where_nowcast_ci90"] = ci2
    out["judged"] = out["effective_n"] >= MIN_JUDGED
    return out


def nowcast_cells(records: pd.DataFrame) -> list[dict[str, Any]]:
    """The family 'nowcast' cells at each cutoff (2020 apart), with ``by_indicator`` and ``shock_years``."""
    cells: list[dict[str, Any]] = []
    if records.empty:
        return cells
    for kind in NOWCAST_CUTOFFS:
        c = records[records["cutoff"] == kind]
        if c.empty:
            continue
        main = c[~c["year"].isin(SHOCK_YEARS)]
        shock = c[c["year"].isin(SHOCK_YEARS)]
        now, naive = main[main["method"] == nc.METHOD], main[main["method"] == "naive_annual"]
        cell: dict[str, Any] = {
            "family": "nowcast",
            "cutoff": kind,
            "default": nc.METHOD,
            "years": sorted(int(y) for y in main["year"].unique()),
            **_ratio_block(now, naive),
        }
        cell["by_indicator"] = {
            str(kpi): _ratio_block(now[now["indicator"] == kpi], naive[naive["indicator"] == kpi])
            for kpi in sorted(now["indicator"].unique())
        }
        cell["fallback_reasons"] = {
            str(r): int(n)
            for r, n in now.loc[now["fallback"] != "", "fallback"].value_counts().items()
        }
        cell["shock_years"] = (
            _ratio_block(
                shock[shock["method"] == nc.METHOD], shock[shock["method"] == "naive_annual"]
            )
            if len(shock)
            else None
        )
        cells.append(cell)
    return cells


def run_nowcast_backtest(
    raw_root: Path, sources_file: Path | None = None, catalogue: Catalogue | None = None
) -> tuple[list[dict[str, Any]], pd.DataFrame, float]:
    """Read, clean, replay and score the nowcast family: (cells, records, seconds)."""
    t0 = time.perf_counter()
    inds = nowcast_indicators(catalogue)
    ids = {i.id for i in inds} | {i.nowcast.signal for i in inds if i.nowcast is not None}
    tidy = nowcast_tidy(Path(raw_root), sources_file, ids)
    records = nowcast_records(tidy, inds)
    return nowcast_cells(records), records, time.perf_counter() - t0
