"""Scoring: split-conformal intervals and P(better) from earlier years only, metrics per cell, the summary.

Intervals and P(met) come from the scaled errors of earlier years only (sub-annual: years before
the evaluation year; annual: two years before, since a Kolada year is published well into the
next), pooled over series of the same family, cutoff, method and error band
(:func:`ks_analysis.forecast.engine.error_bands`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.backtest.design import (
    ANNUAL_EVAL_METHODS,
    MIN_JUDGED,
    SHOCK_YEARS,
    SUBYEAR_EVAL_METHODS,
)
from ks_analysis.backtest.select import (
    SELECT_FALLBACK,
    selection_by_year,
    with_selected,
    with_ses_pooled,
)
from ks_analysis.forecast import calibration as cal

__all__ = [
    "BAND_LEVELS",
    "score_backtest",
    "choose_defaults",
    "summarise",
    "reliability_table",
]


def _calib_years(family: str, year: int) -> int:
    """Errors of years < this value may calibrate an evaluation year (annual KPIs lag a year)."""
    return year - 1 if family == "annual" else year


BAND_LEVELS = ("band", "b1", "b2")


def score_backtest(records: pd.DataFrame) -> pd.DataFrame:
    """Split-conformal intervals and P(better than last year) for every record, from earlier years only.

    Adds method 'selected' (see :func:`select_methods`): per year, the rows of the method chosen
    on earlier years, with a column ``chosen``. Each record takes the most specific error pool (see :func:`ks_analysis.forecast.calibration.pool_bands`)
    that holds at least ``MIN_POOLED`` errors of calibration years; with none, the conservative
    reference shape, flagged. Adds: e (scaled error), lo80, hi80, lo95, hi95, p_better, better,
    pool, n_calib, flagged.
    """
    records = with_ses_pooled(records)
    records = records[~records["method"].str.match(r"ses_\d")].reset_index(drop=True)
    e = ((records["actual"] - records["point"]) / records["scale"]).to_numpy()
    records["e"] = e
    N = len(records)
    out = {k: np.full(N, np.nan) for k in ("lo95", "lo80", "hi80", "hi95", "p_better", "n_calib")}
    flagged = np.ones(N, dtype=bool)
    pool_lev = np.full(N, -1)
    codes = [pd.factorize(records[lev].astype(str))[0] for lev in BAND_LEVELS]
    year = records["year"].to_numpy()
    pt = records["point"].to_numpy()
    sc = records["scale"].to_numpy()
    fl = records["floor"].to_numpy(dtype="float64")
    last = records["last"].to_numpy()
    sign = records["sign"].to_numpy()
    ref = cal._t_reference()
    probs = {"lo95": 0.025, "lo80": 0.10, "hi80": 0.90, "hi95": 0.975}

    def fill(idx: np.ndarray, q: np.ndarray, n: int, flag: bool) -> None:
        """Intervals and P(better) of records ``idx`` from error quantiles ``q`` of ``n`` errors."""
        for lab, p in probs.items():
            v = pt[idx] + sc[idx] * float(np.interp(p, cal.QUANTILE_GRID, q))
            out[lab][idx] = np.where(
                np.isfinite(fl[idx]), np.fmax(v, fl[idx]), v
            )  # a sum cannot end below its year to date
        z = (last[idx] - pt[idx]) / sc[idx]
        p_up = 1.0 - np.interp(z, q, cal.QUANTILE_GRID, left=0.0, right=1.0)
        p_up = np.where(np.isfinite(fl[idx]) & (last[idx] < fl[idx]), 1.0, p_up)
        out["p_better"][idx] = np.where(sign[idx] > 0, p_up, 1.0 - p_up)
        out["n_calib"][idx] = n
        flagged[idx] = flag

    groups: dict[Any, np.ndarray] = records.groupby(
        ["family", "cutoff", "method"], sort=False
    ).indices  # type: ignore[assignment]
    for gkey, gidx in groups.items():
        fam = gkey[0]
        gy = year[gidx]
        for y in np.unique(gy):
            lim = _calib_years(str(fam), int(y))
            calib = gidx[gy < lim]
            target = gidx[gy == y]
            todo = np.ones(target.size, dtype=bool)
            for li, c in enumerate(codes):
                if not todo.any() or calib.size == 0:
                    break
                counts = np.bincount(c[calib], minlength=c.max() + 1)
                ok = todo & (counts[c[target]] >= cal.MIN_POOLED)
                for code in np.unique(c[target][ok]):
                    idx = target[ok & (c[target] == code)]
                    pool = e[calib[c[calib] == code]]
                    fill(
                        idx,
                        cal._conformal(np.quantile(pool, cal.QUANTILE_GRID), pool.size),
                        pool.size,
                        False,
                    )
                    pool_lev[idx] = li
                todo &= ~ok
            if todo.any():
                fill(target[todo], ref, 0, True)
    for k, v in out.items():
        records[k] = v
    records["flagged"] = flagged
    records["pool_level"] = pool_lev
    records["better"] = np.where(
        sign > 0, records["actual"] > records["last"], records["actual"] < records["last"]
    ).astype(float)
    # the selected method's forecast with that method's own calibrated interval, as a report gets it
    return with_selected(records)


def _metrics(d: pd.DataFrame) -> dict[str, Any]:
    """MASE, coverage, Winkler score, Brier score and skill of one set of scored forecasts."""
    ae = (d["actual"] - d["point"]).abs() / d["scale"]
    brier = float(np.mean((d["p_better"] - d["better"]) ** 2)) if len(d) else float("nan")
    base = float(d["better"].mean()) if len(d) else float("nan")
    ref = base * (1 - base)
    w80 = (d["hi80"] - d["lo80"]) + (2 / 0.2) * (
        (d["lo80"] - d["actual"]).clip(lower=0) + (d["actual"] - d["hi80"]).clip(lower=0)
    )
    return {
        "n": int(len(d)),
        "mase": float(ae.mean()) if len(d) else None,
        "coverage80": float(((d["actual"] >= d["lo80"]) & (d["actual"] <= d["hi80"])).mean())
        if len(d)
        else None,
        "coverage95": float(((d["actual"] >= d["lo95"]) & (d["actual"] <= d["hi95"])).mean())
        if len(d)
        else None,
        "winkler80_scaled": float((w80 / d["scale"]).mean()) if len(d) else None,
        "brier": brier,
        "brier_skill": float(1 - brier / ref) if ref > 0 else None,
        "base_rate": base,
        "flagged_share": float(d["flagged"].mean()) if len(d) else None,
    }


def _cell(
    scored: pd.DataFrame, fam: str, cutoff: str, default: str, methods: list[str]
) -> dict[str, Any]:
    """One summary cell: the default's figures and every method's, on the forecasts they share."""
    c = scored[(scored["family"] == fam) & (scored["cutoff"] == cutoff)]
    # compare methods on the same forecasts: keys where the default and both baselines exist
    key = ["year", "sid"]
    piv = c.pivot_table(index=key, columns="method", values="point", aggfunc="first")
    need = [x for x in {default, "naive_annual", "ytd_snaive"} if x in piv.columns]
    common = piv.dropna(subset=need).index
    c = c.set_index(key).loc[lambda x: x.index.isin(common)].reset_index()
    per = {
        meth: _metrics(c[c["method"] == meth]) for meth in methods if (c["method"] == meth).any()
    }
    d = per.get(default, {"n": 0})
    out: dict[str, Any] = {
        "cutoff": cutoff,
        "family": fam,
        "default": default,
        "n": d.get("n", 0),
        "judged": d.get("n", 0) >= MIN_JUDGED,
    }

    def ratio(a: str, b: str) -> float | None:
        """MASE of method ``a`` over method ``b`` (None when either is missing)."""
        if a in per and b in per and per[b]["mase"]:
            return float(per[a]["mase"] / per[b]["mase"])
        return None

    out["mase_vs_naive_annual"] = ratio(default, "naive_annual")
    out["mase_vs_ytd_snaive"] = ratio(default, "ytd_snaive") if fam != "annual" else None

    def win_rate(meth: str) -> float | None:
        """Share of forecasts closer to the outcome than ytd_snaive's (ties count half)."""
        if fam == "annual" or meth not in per or "ytd_snaive" not in per:
            return None
        a = c[c["method"] == meth].set_index(key)
        b = c[c["method"] == "ytd_snaive"].set_index(key).reindex(a.index)
        ea = (a["actual"] - a["point"]).abs()
        eb = (b["actual"] - b["point"]).abs()
        return float(((ea < eb) + 0.5 * (ea == eb)).mean())

    out["win_rate_vs_ytd_snaive"] = win_rate(default)
    for k in (
        "coverage80",
        "coverage95",
        "brier_skill",
        "brier",
        "mase",
        "winkler80_scaled",
        "base_rate",
        "flagged_share",
    ):
        out[k] = d.get(k)
    out["methods"] = {
        meth: {
            **v,
            "mase_vs_naive_annual": ratio(meth, "naive_annual"),
            "mase_vs_ytd_snaive": ratio(meth, "ytd_snaive") if fam != "annual" else None,
            "win_rate_vs_ytd_snaive": win_rate(meth),
        }
        for meth, v in per.items()
    }
    return out


def choose_defaults(scored: pd.DataFrame) -> dict[str, str]:
    """Default per family: 'selected' for monthly/quarterly series, ``ses_pooled`` or ``naive_annual`` for annual.

    Monthly/quarterly: the method chosen per (family, cutoff, aggregation) by rolling-origin
    validation on earlier years (:func:`select_methods`); its evaluation on later years is the
    'selected' rows, so the choice itself never sees the years it is judged on. Annual:
    ``ses_pooled`` (its weight chosen per KPI on earlier years) if its MASE is below
    ``naive_annual``'s at both cutoffs, else ``naive_annual``.
    """
    s = scored[~scored["year"].isin(SHOCK_YEARS)]
    out = dict(cal.FALLBACK_DEFAULTS)
    for fam in ("monthly", "quarterly"):
        out[fam] = (
            "selected"
            if (s["method"].eq("selected") & s["family"].eq(fam)).any()
            else SELECT_FALLBACK
        )
    ok = True
    for cutoff in ("T1", "T2"):
        c = _cell(s, "annual", cutoff, "ses_pooled", ["ses_pooled", "naive_annual"])
        if c["mase_vs_naive_annual"] is None or c["mase_vs_naive_annual"] >= 1.0:
            ok = False
    out["annual"] = "ses_pooled" if ok else "naive_annual"
    return out


def summarise(scored: pd.DataFrame, defaults: dict[str, str], runtime_s: float) -> dict[str, Any]:
    """The backtest's JSON: ``runtime_s`` and ``cells`` (T1/T2 x monthly/quarterly/annual), plus 2020 apart."""
    normal = scored[~scored["year"].isin(SHOCK_YEARS)]
    shock = scored[scored["year"].isin(SHOCK_YEARS)]
    cells, shock_cells, y_cells = [], [], []
    for cutoff in ("T1", "T2"):
        for fam in ("monthly", "quarterly", "annual"):
            meths = list(
                ANNUAL_EVAL_METHODS if fam == "annual" else (*SUBYEAR_EVAL_METHODS, "selected")
            )
            cells.append(_cell(normal, fam, cutoff, defaults[fam], meths))
            shock_cells.append(_cell(shock, fam, cutoff, defaults[fam], meths))
    for fam in ("monthly", "quarterly", "annual"):
        meths = list(
            ANNUAL_EVAL_METHODS if fam == "annual" else (*SUBYEAR_EVAL_METHODS, "selected")
        )
        y_cells.append(_cell(normal, fam, "Y", defaults[fam], meths))
    years = sorted(int(y) for y in scored["year"].unique())
    series = scored.groupby("family")["series"].nunique().to_dict()
    return {
        "runtime_s": round(runtime_s, 2),
        "defaults": defaults,
        "cells": cells,
        "shock_2020": shock_cells,
        "cells_december": y_cells,
        "reliability": {
            f"{c}|{fam}": reliability_table(
                normal[
                    (normal["cutoff"] == c)
                    & (normal["family"] == fam)
                    & (normal["method"] == defaults[fam])
                ]
            ).to_dict(orient="records")
            for c in ("T1", "T2")
            for fam in ("monthly", "quarterly", "annual")
        },
        "selection_by_year": selection_by_year(scored),
        "coverage_note": "Main cells exclude 2020 (shock year, reported apart under shock_2020). Cells with n < 100 are reported but not judged.",
        "years": [years[0], years[-1]] if years else [],
        "series": {str(k): int(v) for k, v in series.items()},
        "min_judged": MIN_JUDGED,
    }


def reliability_table(d: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Forecast P(better) in bins against the observed share, one row per bin with n."""
    if d.empty:
        return pd.DataFrame(columns=["bin", "p_mean", "observed", "n"])
    edges = np.linspace(0, 1, bins + 1)
    b = np.clip(np.digitize(d["p_better"], edges) - 1, 0, bins - 1)
    g = (
        d.assign(bin=b)
        .groupby("bin")
        .agg(p_mean=("p_better", "mean"), observed=("better", "mean"), n=("better", "size"))
        .reset_index()
    )
    return g
