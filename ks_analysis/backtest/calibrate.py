"""Calibration file: the error pools, defaults and tuned parameters the report's forecasts read.

Writes ``ks_analysis/data/calibration.json`` (see :mod:`ks_analysis.forecast.calibration`) from a
scored backtest: quantiles of scaled errors per (family, cutoff, method, error band) with their
credibility parameters, the default method per family and selection cell, the annual SES weights
and damped steps, scale floors and the backtested Brier skill.

No future in the past: the top level is fitted on every backtest year (for reports after the
last one), and ``by_origin[Y]`` on forecast years before Y only (annual KPIs: before Y - 1, as
in the backtest's own scoring), for every origin year from :data:`FIRST_ORIGIN` to the last
backtest year. Each origin's entry is what the backtest itself used to forecast year Y, so the
track record of year Y is the record of exactly the method and intervals a report of Y gets.
Refitting at report time instead would need the whole backtest (about a minute on the real
data) before every report; the stored entries cost a lookup.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.backtest.design import MIN_JUDGED, SHOCK_YEARS
from ks_analysis.backtest.score import (
    BAND_LEVELS,
    CRED_MARGIN,
    _calib_years,
    choose_defaults,
    effective_n,
    interval_score,
)
from ks_analysis.backtest.select import (
    SELECT_FALLBACK,
    AnnualTuning,
    annual_tuning_by_year,
    select_cells,
    select_methods,
    select_table,
)
from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast import engine

__all__ = [
    "FIRST_ORIGIN",
    "write_calibration",
    "calibration_content",
    "origin_entry",
    "calibration_origins",
    "annual_tuning_by_origin",
    "origin_defaults",
    "origin_skill",
    "scale_floors",
]

#: The first origin year stored: reports from 2019 on and explorations a few years back use
#: entries of their own year; an earlier origin gets no calibration (default methods, the wide
#: reference error shape, flagged ``few_calibration_errors``).
FIRST_ORIGIN = 2016


def calibration_origins(scored: pd.DataFrame) -> list[int]:
    """The origin years stored in ``by_origin``: :data:`FIRST_ORIGIN` to the last backtest year."""
    if scored.empty:
        return []
    return list(range(FIRST_ORIGIN, int(scored["year"].max()) + 1))


def annual_tuning_by_origin(records: pd.DataFrame, tuning: AnnualTuning) -> AnnualTuning:
    """``tuning`` with, per origin year Y, the annual candidates chosen on origins before Y - 1
    (a KPI's year is published late: the rule of :func:`~ks_analysis.backtest.select.with_ses_pooled`)."""
    origins = calibration_origins(records)
    by_year = annual_tuning_by_year(records, [y - 1 for y in origins])
    return AnnualTuning(tuning.ses_alpha, tuning.trend_phi, {y: by_year[y - 1] for y in origins})


def _lim(family: str, origin: int) -> int:
    """Forecast years before this one may calibrate origin year ``origin`` (annual: one less)."""
    return _calib_years(family, origin)


def _reachable(defaults: dict[str, str], by_cell: dict[str, str]) -> dict[str, set[str]]:
    """Per family, the methods a report's forecast can reach: the defaults and the fallback ladder."""
    sub = set(by_cell.values()) | set(engine.LADDER_SUBYEAR)
    sub |= {v for f, v in defaults.items() if f != "annual"}
    return {
        "monthly": sub,
        "quarterly": sub,
        "annual": {defaults.get("annual", "naive_annual"), *engine.LADDER_ANNUAL},
    }


def _groups(scored: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The scored forecasts split once by (family, cutoff, method), without 'selected' (its rows
    are copies of the chosen methods'), as the arrays a pool is built from (bands as codes)."""
    base = scored[scored["method"].ne("selected")]
    a, sc = base["actual"].to_numpy(dtype="float64"), base["scale"].to_numpy(dtype="float64")

    def score(suffix: str) -> np.ndarray:
        lo = base[f"lo80{suffix}"].to_numpy(dtype="float64")
        return interval_score(lo, base[f"hi80{suffix}"].to_numpy(dtype="float64"), a) / sc

    cols = {
        "year": base["year"].to_numpy(),
        "ser": pd.factorize(base["series"])[0],
        "e": base["e"].to_numpy(dtype="float64"),
        "lam": base["lam"].to_numpy(dtype="float64"),
        "is_cred": score("_cred"),
        "is_pool": score("_pool"),
    }
    levels = [pd.factorize(base[lev].astype(str)) for lev in BAND_LEVELS]
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    index: dict[Any, np.ndarray] = base.groupby(["family", "cutoff", "method"], sort=True).indices  # type: ignore[assignment]
    for key, idx in index.items():
        g: dict[str, Any] = {k: v[idx] for k, v in cols.items()}
        g["levels"] = [(codes[idx], uniq) for codes, uniq in levels]
        out[(str(key[0]), str(key[1]), str(key[2]))] = g
    return out


def _pools(
    groups: dict[tuple[str, str, str], dict[str, Any]],
    origin: int | None,
    methods: dict[str, set[str]] | None,
) -> dict[str, Any]:
    """The error pools of an origin (None: every year), the way the backtest scored that year.

    A pool holds the errors of the last :data:`~ks_analysis.forecast.calibration.POOL_YEARS`
    calibration years; where the track-record-scaled intervals had the lower interval score on
    them (:func:`ks_analysis.backtest.score.score_backtest`), the stored quantiles are of the
    errors divided by each one's own ratio λ, with the credibility parameters to scale them back.
    """
    pools: dict[str, Any] = {}
    for (fam, cutoff, method), g in groups.items():
        if methods is not None and method not in methods.get(fam, set()):
            continue
        y = g["year"]
        lim = _lim(fam, origin) if origin is not None else int(y.max()) + 1
        keep = np.flatnonzero((y < lim) & (y >= lim - cal.POOL_YEARS))
        if keep.size < cal.MIN_POOLED:
            continue
        parent = g["levels"][1][0][keep]  # the size band pool each row is in
        parent_years = {int(p): np.unique(y[keep][parent == p]).size for p in np.unique(parent)}
        for li, (codes, uniq) in enumerate(g["levels"]):
            c = codes[keep]
            order = np.argsort(c, kind="stable")
            bounds = np.flatnonzero(np.diff(c[order])) + 1
            for part in np.split(order, bounds):
                rows = keep[part]
                n_years = np.unique(y[rows]).size
                if part.size < cal.MIN_POOLED or n_years < cal.MIN_POOL_YEARS:
                    continue  # too few: the next broader pool, or the forecast widens its own errors
                if li == 0 and n_years < parent_years[int(parent[part[0]])]:
                    continue  # the kind of recent changes splits a pool only keeping all its years
                key = cal.CalibrationKey(fam, cutoff, method, str(uniq[c[part[0]]])).id()
                pools[key] = _pool_entry(g, rows, lim)
    return pools


def _pool_entry(g: dict[str, Any], rows: np.ndarray, lim: int) -> dict[str, Any]:
    """One pool: n, the quantiles it stores and, where the own track record won, its credibility."""
    e = g["e"][rows]
    entry: dict[str, Any] = {"n": int(e.size)}
    new, old = g["is_cred"][rows], g["is_pool"][rows]
    both = np.isfinite(new) & np.isfinite(old)
    use = bool(
        both.sum() >= cal.MIN_POOLED and new[both].mean() < (1 - CRED_MARGIN) * old[both].mean()
    )
    win = g["year"][rows] >= lim - cal.OWN_YEARS
    cred = cal.credibility_fit(np.abs(e[win]), g["ser"][rows][win]) if use else None
    if cred is not None and cred.k is not None:
        e = e / g["lam"][rows]
        entry["cred"] = cred.as_json()
    entry["q"] = [round(x, 4) for x in cal.quantiles_of(e)]
    # the year is the unit of exchangeability: how many years, and how much is their common shock
    k, rho = cal.year_components(e, g["year"][rows])
    entry["years"], entry["between"] = k, round(rho, 4)
    return entry


def origin_defaults(scored: pd.DataFrame, origin: int | None) -> dict[str, str]:
    """Default method per family as the backtest chose it on years before ``origin`` (None: all);
    see :func:`ks_analysis.backtest.score.choose_defaults`."""
    return choose_defaults(scored, origin)


def _defaults_fast(sh: dict[str, Any], origin: int | None) -> dict[str, str]:
    """:func:`origin_defaults` from the shared per-year sums (the same rule, without refiltering)."""
    out = dict(cal.FALLBACK_DEFAULTS)
    for fam in ("monthly", "quarterly"):
        years = sh["selected_years"].get(fam, np.zeros(0))
        has = years.size > 0 and (origin is None or bool((years < _lim(fam, origin)).any()))
        out[fam] = "selected" if has else SELECT_FALLBACK
    ok = True
    for cutoff in ("T1", "T2"):
        t = sh["annual_sums"].get(cutoff)
        if t is None:
            ok = False
            continue
        if origin is not None:
            t = t[t.index < _lim("annual", origin)]
        num, den = float(t["a"].sum()), float(t["b"].sum())
        if den <= 0 or num / den >= 1.0:
            ok = False
    out["annual"] = "ses_pooled" if ok else "naive_annual"
    return out


def _annual_sums(scored: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per cutoff and year: the scaled absolute errors of ses_pooled (a) and naive_annual (b),
    summed over the forecasts both made (2020 left out)."""
    s = scored[
        scored["family"].eq("annual")
        & scored["method"].isin(("ses_pooled", "naive_annual"))
        & ~scored["year"].isin(SHOCK_YEARS)
    ]
    out: dict[str, pd.DataFrame] = {}
    for cutoff, c in s.groupby("cutoff"):
        ae = ((c["actual"] - c["point"]).abs() / c["scale"]).to_numpy()
        t = pd.DataFrame(
            {
                "year": c["year"].to_numpy(),
                "sid": c["sid"].to_numpy(),
                "m": c["method"].to_numpy(),
                "ae": ae,
            }
        )
        w = t.pivot_table(index=["year", "sid"], columns="m", values="ae", aggfunc="first")
        if "ses_pooled" not in w or "naive_annual" not in w:
            continue
        w = w.dropna(subset=["ses_pooled", "naive_annual"])
        g = w.groupby(level="year")[["ses_pooled", "naive_annual"]].sum()
        out[str(cutoff)] = g.rename(columns={"ses_pooled": "a", "naive_annual": "b"})
    return out


def origin_skill(
    scored: pd.DataFrame,
    defaults: dict[str, str],
    origin: int | None,
    _frames: dict[tuple[str, str, str], pd.DataFrame] | None = None,
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Brier skill of P(better than last year) per cutoff kind and family / series group, of the
    default method on years before ``origin`` (2020 left out), with its effective n and its MASE
    relative to the family's naive benchmark on the same forecasts.

    Each entry is ``{brier_skill, effective_n, brier_skill_unjudged, mase_vs_naive}``:
    ``brier_skill`` is None where the effective n is below
    :data:`~ks_analysis.backtest.design.MIN_JUDGED` (too few forecasts to judge);
    ``brier_skill_unjudged`` is the figure itself, for the record; ``mase_vs_naive`` is the mean
    absolute scaled error over that of :data:`NAIVE_BENCHMARK` (None without its forecasts).
    """
    frames = _frames if _frames is not None else {}
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for cutoff in ("T1", "T2", "Y"):
        cell: dict[str, dict[str, float | None]] = {}
        for fam in ("monthly", "quarterly", "annual"):
            key = (fam, cutoff, defaults[fam])
            if key not in frames:
                frames[key] = _skill_frame(scored, *key)
            d = frames[key]
            if origin is not None:
                d = d[d["year"].to_numpy() < _lim(fam, origin)]
            if d.empty:
                continue
            cell[fam] = _skill(d)
            for g, dg in d.groupby("group", sort=True):
                cell[str(g)] = _skill(dg)
        out[cutoff] = cell
    return out


#: The naive benchmark a family's point forecasts must beat (its ``mase_vs_naive``): last year's
#: value for annual KPIs; the year so far plus last year's remaining sub-periods otherwise.
NAIVE_BENCHMARK = {"annual": "naive_annual", "quarterly": "ytd_snaive", "monthly": "ytd_snaive"}


def _skill_frame(scored: pd.DataFrame, fam: str, cutoff: str, method: str) -> pd.DataFrame:
    """The forecasts of one family, cutoff and method that a skill is measured on (2020 left out),
    with the scaled error of the family's naive benchmark on the same series-year (``e_naive``)."""
    here = (
        (scored["family"] == fam) & (scored["cutoff"] == cutoff) & ~scored["year"].isin(SHOCK_YEARS)
    )
    d = scored[here & (scored["method"] == method)]
    d = d[["year", "series", "group", "e", "p_better", "better"]]
    naive = scored[here & (scored["method"] == NAIVE_BENCHMARK[fam])][["year", "series", "e"]]
    naive = naive.drop_duplicates(["year", "series"]).rename(columns={"e": "e_naive"})
    return d.merge(naive, on=["year", "series"], how="left", validate="many_to_one")


def _skill(d: pd.DataFrame) -> dict[str, float | None]:
    """Brier skill (1 - Brier / Brier of the base rate) and effective n; the skill is None when
    too few forecasts (effective n) to judge."""
    eff = effective_n(d)
    base = float(d["better"].mean())
    ref = base * (1 - base)
    bss = (
        round(1 - float(((d["p_better"] - d["better"]) ** 2).mean()) / ref, 4) if ref > 0 else None
    )
    both = d["e_naive"].notna().to_numpy() if "e_naive" in d else np.zeros(len(d), dtype=bool)
    den = float(np.abs(d["e_naive"].to_numpy()[both]).sum()) if both.any() else 0.0
    mase = round(float(np.abs(d["e"].to_numpy()[both]).sum()) / den, 4) if den > 0 else None
    return {
        "brier_skill": bss if eff >= MIN_JUDGED else None,
        "effective_n": round(eff, 1),
        "brier_skill_unjudged": bss,
        "mase_vs_naive": mase,
    }


def origin_entry(
    scored: pd.DataFrame,
    origin: int | None,
    tuning: AnnualTuning,
    *,
    all_methods: bool = False,
    _shared: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a report of origin year ``origin`` may use, fitted on earlier forecast years only
    (None: every year). Pools only for the methods its forecasts can reach unless ``all_methods``."""
    sh = _shared if _shared is not None else _shared_parts(scored)
    defaults = _defaults_fast(sh, origin)
    by_cell = (
        select_methods(scored, before_year=origin, table=sh["table"], cells=sh["cells"])
        if "agg" in scored
        else {}
    )
    fixed = {f: (SELECT_FALLBACK if v == "selected" else v) for f, v in defaults.items()}
    tune = tuning if origin is None else tuning.by_origin.get(origin, AnnualTuning())
    methods = None if all_methods else _reachable(fixed, by_cell)
    return {
        "defaults": fixed,
        "default_by_cell": by_cell,
        "params": {
            "M": {"damping": 0.5, "ets_params": [0.2, 0.1]},
            "Q": {"damping": 0.5, "ets_params": [0.2, 0.1]},
            "ses_alpha_by_indicator": dict(tune.ses_alpha),
            "trend_phi_by_indicator": dict(tune.trend_phi),
            "scale_floor_by_band": scale_floors(scored, origin),
        },  # fmt: skip
        "skill": origin_skill(scored, defaults, origin, sh["skill_frames"]),
        "pools": _pools(sh["groups"], origin, methods),
    }


def _shared_parts(scored: pd.DataFrame) -> dict[str, Any]:
    """What every origin's entry reads, computed once: the pools' groups and the selection's sums."""
    sub = scored[scored["family"].ne("annual")] if "agg" in scored else scored.iloc[:0]
    return {
        "groups": _groups(scored),
        "table": select_table(sub) if "agg" in scored else None,
        "cells": select_cells(sub) if "agg" in scored else None,
        "annual_sums": _annual_sums(scored),
        "selected_years": {
            str(f): np.unique(g["year"].to_numpy())
            for f, g in scored[
                scored["method"].eq("selected") & ~scored["year"].isin(SHOCK_YEARS)
            ].groupby("family")
        },
        "skill_frames": {},
    }


def calibration_content(scored: pd.DataFrame, tuning: AnnualTuning | None = None) -> dict[str, Any]:
    """The calibration file's content: every year at the top level, and ``by_origin``."""
    tuning = tuning or AnnualTuning()
    sh = _shared_parts(scored)
    top = origin_entry(scored, None, tuning, all_methods=True, _shared=sh)
    return {
        "about": "Scaled forecast errors (actual - forecast) / mean |year-on-year change| from ks-analysis backtest on the real series; quantiles only, no data values. "
        "Top level: fitted on every backtest year. by_origin[Y]: fitted on forecast years before Y only (annual KPIs: before Y - 1), for reports of year Y.",
        "generated": dt.date.today().isoformat(),
        "quantile_grid": cal.QUANTILE_GRID.tolist(),
        **top,
        "by_origin": {
            str(y): origin_entry(scored, y, tuning, _shared=sh) for y in calibration_origins(scored)
        },
    }


def write_calibration(
    scored: pd.DataFrame,
    defaults: dict[str, str] | None = None,
    tuning: AnnualTuning | None = None,
    path: Path = cal.CALIBRATION_FILE,
) -> Path:
    """Write the calibration file (see :func:`calibration_content`); one pool a line for readable diffs.

    ``tuning`` holds the annual SES weights and damped steps chosen on every year and per origin
    (:func:`annual_tuning_by_origin`). ``defaults`` is accepted for compatibility: the defaults
    are chosen per origin from ``scored`` itself, by the same rule as the backtest's.

    ``default_by_cell`` holds the sub-annual method per (family, cutoff, aggregation) that
    :func:`select_methods` picks on the years before the origin (every year at the top level):
    the same rule the backtest evaluated year by year on earlier years only.
    """
    content = calibration_content(scored, tuning)
    text = json.dumps(content, separators=(",", ":"))
    path.write_text(
        text.replace('},"', '},\n"') + "\n", encoding="utf-8"
    )  # one pool a line: readable diffs
    cal._load.cache_clear()
    return path


def scale_floors(scored: pd.DataFrame, origin: int | None = None) -> dict[str, float]:
    """Annual KPIs: the scale floor a forecast applies, per 'KPI|kommun size band' and per KPI:
    :data:`ks_analysis.forecast.calibration.SCALE_FLOOR_SHARE` × the median scale at the latest
    origin year before ``origin`` (None: the latest)."""
    a = scored[
        scored["family"].eq("annual")
        & scored["method"].eq("naive_annual")
        & scored["cutoff"].eq("T1")
    ]
    if origin is not None:
        a = a[a["year"] < origin]
    if a.empty or "b2" not in a:
        return {}
    a = a[a["year"] == a["year"].max()]
    band = a["band"].astype(str).str.replace(r"\|h\d+$", "", regex=True)
    out = {
        str(k): round(float(v) * cal.SCALE_FLOOR_SHARE, 6)
        for k, v in a.groupby(band)["scale"].median().items()
    }
    out.update(
        {
            str(k): round(float(v) * cal.SCALE_FLOOR_SHARE, 6)
            for k, v in a.groupby("b2")["scale"].median().items()
        }
    )
    return out
