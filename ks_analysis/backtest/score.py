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
    "interval_score",
    "mase_ratio",
    "effective_n",
    "ratio_ci90",
]


#: The level-scaled benchmark pool scales each error by this share of the series' last value
#: (the scale floor every series had before a series' own changes set its scale).
LEVEL_SCALE_SHARE = 0.02


def _calib_years(family: str, year: int) -> int:
    """Errors of years < this value may calibrate an evaluation year (annual KPIs lag a year)."""
    return year - 1 if family == "annual" else year


#: The error pools' levels, most specific first: ``b0`` is an annual series' size band with the
#: kind of its recent changes (:func:`ks_analysis.forecast.calibration.trend_label`; the size band
#: itself where that is unknown, and for sub-annual series), then size band, horizon, KPI.
BAND_LEVELS = ("b0", "band", "b1", "b2")
#: The track-record-scaled intervals replace a pool's own only where their mean interval score on
#: the calibration years is lower by at least this share (a margin against winning by chance).
CRED_MARGIN = 0.01


def score_backtest(records: pd.DataFrame) -> pd.DataFrame:
    """Split-conformal intervals and P(better than last year) for every record, from earlier years only.

    Adds method 'selected' (see :func:`select_methods`): per year, the rows of the method chosen
    on earlier years, with a column ``chosen``. Each record takes the most specific error pool (see :func:`ks_analysis.forecast.calibration.pool_bands`)
    that holds at least ``MIN_POOLED`` errors of calibration years; with none, the conservative
    reference shape, flagged.

    Three intervals per record: the pool-only one (``lo80_pool`` ... ``hi95_pool``: the pool's
    errors as they are); the one scaled by the series' own track record (``lo80_cred`` ...):
    λ × the pool's errors divided by each one's own λ, where λ is the series'
    credibility-weighted error ratio (:func:`ks_analysis.forecast.calibration.credibility_ratio`)
    from its own errors of the calibration years; and the default one (``lo80`` ... ``hi95``),
    which is the scaled one where, in that pool, the scaled intervals had a mean 80 % interval
    score on the calibration years lower by at least :data:`CRED_MARGIN` (``cred_used``), else
    the pool-only one. The choice is
    rolling-origin validation like the method choice: a pool where the own track records do not
    predict the errors better than the pool keeps the pool's width. P(better) comes from the
    default one. Adds: e (scaled error), lam, the three intervals, cred_used, p_better, better,
    pool, n_calib, flagged.
    """
    if "b0" not in records:
        records = records.assign(b0=records["band"])
    records = with_ses_pooled(records)
    records = records[~records["method"].str.match(r"ses_\d")].reset_index(drop=True)
    e = ((records["actual"] - records["point"]) / records["scale"]).to_numpy()
    records["e"] = e
    N = len(records)
    labs = ("lo95", "lo80", "hi80", "hi95")
    out = {
        k: np.full(N, np.nan)
        for k in (
            *labs,
            *(f"{x}_pool" for x in labs),
            *(f"{x}_cred" for x in labs),
            *(f"{x}_level" for x in labs),
            *(f"{x}_poolw" for x in labs),
            "p_better",
            "n_calib",
        )
    }
    lam = np.ones(N)
    cred_used = np.zeros(N, dtype=bool)
    flagged = np.ones(N, dtype=bool)
    pool_lev = np.full(N, -1)
    n_years = np.zeros(N, dtype="int64")
    between = np.full(N, np.nan)
    codes = [pd.factorize(records[lev].astype(str))[0] for lev in BAND_LEVELS]
    ser = pd.factorize(records["series"].astype(str))[0]
    year = records["year"].to_numpy()
    pt = records["point"].to_numpy()
    sc = records["scale"].to_numpy()
    fl = records["floor"].to_numpy(dtype="float64")
    last = records["last"].to_numpy()
    sign = records["sign"].to_numpy()
    records_actual = records["actual"].to_numpy()
    # The level-floored pool: errors scaled by the series' scale floored at LEVEL_SCALE_SHARE of
    # its last value, pooled the same way. For a smooth series the floor binds, and its interval
    # is blind to how little the series moves (the benchmark its own scale must beat).
    lvl = np.fmax(LEVEL_SCALE_SHARE * np.abs(last), sc)
    e_lvl = (records_actual - pt) / lvl
    ref = cal._t_reference()
    probs = {"lo95": 0.025, "lo80": 0.10, "hi80": 0.90, "hi95": 0.975}

    def bounds(idx: np.ndarray, q: np.ndarray, width: np.ndarray, suffix: str) -> None:
        """Interval bounds of records ``idx`` from error quantiles ``q`` times ``width``."""
        for lab, p in probs.items():
            v = pt[idx] + width * float(np.interp(p, cal.QUANTILE_GRID, q))
            out[lab + suffix][idx] = np.where(
                np.isfinite(fl[idx]), np.fmax(v, fl[idx]), v
            )  # a sum cannot end below its year to date

    def fill(idx: np.ndarray, q: np.ndarray, width: np.ndarray, n: int, flag: bool) -> None:
        """Default intervals and P(better) of records ``idx`` from quantiles ``q`` of ``n`` errors."""
        bounds(idx, q, width, "")
        z = (last[idx] - pt[idx]) / width
        p_up = 1.0 - np.interp(z, q, cal.QUANTILE_GRID, left=0.0, right=1.0)
        p_up = np.where(np.isfinite(fl[idx]) & (last[idx] < fl[idx]), 1.0, p_up)
        out["p_better"][idx] = np.where(sign[idx] > 0, p_up, 1.0 - p_up)
        out["n_calib"][idx] = n
        flagged[idx] = flag

    def pools(
        target: np.ndarray, calib: np.ndarray, levels: list[np.ndarray]
    ) -> tuple[list[tuple[int, np.ndarray, np.ndarray]], np.ndarray]:
        """Each target row's most specific pool among ``levels`` with enough errors of enough
        years: (level, rows, pool rows) per pool, and the rows without one."""
        todo = np.ones(target.size, dtype=bool)
        found: list[tuple[int, np.ndarray, np.ndarray]] = []

        def years_of(c: np.ndarray) -> np.ndarray:
            pairs = np.unique(c[calib].astype("int64") * 10_000 + year[calib])
            return np.bincount(pairs // 10_000, minlength=c.max() + 1)

        for li, c in enumerate(levels):
            if not todo.any() or calib.size == 0:
                break
            counts = np.bincount(c[calib], minlength=c.max() + 1)
            n_yr = years_of(c)
            ok = (
                todo
                & (counts[c[target]] >= cal.MIN_POOLED)
                & (n_yr[c[target]] >= cal.MIN_POOL_YEARS)
            )
            if levels is codes:
                # the kind of recent changes splits a size band's pool only where both parts
                # keep every year of it: a year less widens more than the split sharpens
                ok &= n_yr[c[target]] >= years_of(codes[1])[codes[1][target]] if li == 0 else True
            for code in np.unique(c[target][ok]):
                found.append((li, target[ok & (c[target] == code)], calib[c[calib] == code]))
            todo &= ~ok
        return found, target[todo]

    groups: dict[Any, np.ndarray] = records.groupby(
        ["family", "cutoff", "method"], sort=False
    ).indices  # type: ignore[assignment]
    for gkey, gidx in groups.items():
        fam = gkey[0]
        gy = year[gidx]
        for y in np.unique(gy):  # in year order: a calibration row's own λ is set before it is used
            lim = _calib_years(str(fam), int(y))
            calib = gidx[(gy < lim) & (gy >= lim - cal.POOL_YEARS)]
            target = gidx[gy == y]
            found, rest = pools(target, calib, codes)
            for li, idx, pc in found:
                lam[idx] = _own_ratio(e, ser, year, pc, idx, lim)
                q_std = cal._conformal(np.quantile(e[pc] / lam[pc], cal.QUANTILE_GRID), pc.size)
                q_pool = cal._conformal(np.quantile(e[pc], cal.QUANTILE_GRID), pc.size)
                bounds(idx, q_pool, sc[idx], "_pool")
                bounds(idx, q_std, sc[idx] * lam[idx], "_cred")
                use = _scaled_wins(out, records_actual, sc, pc)
                cred_used[idx] = use
                # the default: the chosen errors widened for a new year (the year is the unit)
                chosen = e[pc] / lam[pc] if use else e[pc]
                k_yr, rho = cal.year_components(chosen, year[pc])
                q_new = cal._conformal(np.quantile(chosen, cal.QUANTILE_GRID), pc.size, k_yr, rho)
                n_years[idx], between[idx] = k_yr, rho
                fill(idx, q_new, sc[idx] * (lam[idx] if use else 1.0), pc.size, False)
                pool_lev[idx] = li
            # The benchmarks: the pool of the KPI (or aggregation) and kommun size band alone,
            # without the kind of recent changes or the series' own record, widened for a new
            # year as the default is (each by the year components of its own errors).
            bench, _ = pools(target, calib, codes[1:])
            for _li, idx, pc in bench:
                k_p, rho_p = cal.year_components(e[pc], year[pc])
                q_poolw = cal._conformal(np.quantile(e[pc], cal.QUANTILE_GRID), pc.size, k_p, rho_p)
                bounds(idx, q_poolw, sc[idx], "_poolw")
                k_l, rho_l = cal.year_components(e_lvl[pc], year[pc])
                q_lvl = cal._conformal(
                    np.quantile(e_lvl[pc], cal.QUANTILE_GRID), pc.size, k_l, rho_l
                )
                bounds(idx, q_lvl, lvl[idx], "_level")
            if rest.size:
                fill(rest, ref, sc[rest], 0, True)
                for suffix in ("_pool", "_cred", "_level", "_poolw"):
                    bounds(rest, ref, sc[rest], suffix)
    for k, v in out.items():
        records[k] = v
    records["lam"] = lam
    records["cred_used"] = cred_used
    records["flagged"] = flagged
    records["pool_level"] = pool_lev
    records["n_years"] = n_years
    records["between"] = between
    records["better"] = np.where(
        sign > 0, records["actual"] > records["last"], records["actual"] < records["last"]
    ).astype(float)
    # the selected method's forecast with that method's own calibrated interval, as a report gets it
    return with_selected(records)


def interval_score(
    lo: np.ndarray, hi: np.ndarray, actual: np.ndarray, alpha: float = 0.2
) -> np.ndarray:
    """The interval (Winkler) score of central (1 - alpha) intervals: width plus 2/alpha times the
    miss (Gneiting & Raftery (2007), "Strictly proper scoring rules, prediction, and estimation",
    JASA 102(477), sec. 6.2); lower is better, and only honest quantiles minimise it."""
    return (hi - lo) + (2 / alpha) * (np.fmax(lo - actual, 0) + np.fmax(actual - hi, 0))


def _scaled_wins(
    out: dict[str, np.ndarray], actual: np.ndarray, sc: np.ndarray, pool: np.ndarray
) -> bool:
    """Whether the track-record-scaled intervals had a mean scaled 80 % interval score lower by
    :data:`CRED_MARGIN` than the pool-only ones on the pool's calibration rows that had both (False with fewer than
    :data:`~ks_analysis.forecast.calibration.MIN_POOLED`)."""
    lo_c, hi_c = out["lo80_cred"][pool], out["hi80_cred"][pool]
    lo_p, hi_p = out["lo80_pool"][pool], out["hi80_pool"][pool]
    ok = np.isfinite(lo_c) & np.isfinite(lo_p)
    if ok.sum() < cal.MIN_POOLED:
        return False
    a, s = actual[pool][ok], sc[pool][ok]
    new = interval_score(lo_c[ok], hi_c[ok], a) / s
    old = interval_score(lo_p[ok], hi_p[ok], a) / s
    return bool(new.mean() < (1 - CRED_MARGIN) * old.mean())


def _own_ratio(
    e: np.ndarray, ser: np.ndarray, year: np.ndarray, pool: np.ndarray, idx: np.ndarray, lim: int
) -> np.ndarray:
    """λ of the records ``idx``: each series' own ``|e|`` in the pool's last
    :data:`~ks_analysis.forecast.calibration.OWN_YEARS` calibration years, shrunk toward the pool
    by the Bühlmann weight fitted on the same window (the rule the report's forecasts apply)."""
    win = pool[year[pool] >= lim - cal.OWN_YEARS]
    cred = cal.credibility_fit(np.abs(e[win]), ser[win])
    if cred is None or cred.k is None:
        return np.ones(idx.size)
    u, inv = np.unique(ser[win], return_inverse=True)
    n = np.bincount(inv).astype("float64")
    s = np.bincount(inv, weights=np.minimum(np.abs(e[win]), cred.cap))
    pos = np.minimum(np.searchsorted(u, ser[idx]), u.size - 1)
    found = u[pos] == ser[idx]
    n_own = np.where(found, n[pos], 0.0)
    mean_own = np.where(found, s[pos] / np.maximum(n[pos], 1.0), 0.0)
    return cal.credibility_ratio(n_own, mean_own, cred)


#: Resamples of the year-block bootstrap, and its seed (the intervals are reproducible).
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 20190
#: The trailing window of the coverage check "in the last five years".
LAST_YEARS = 5


def effective_n(d: pd.DataFrame) -> float:
    """The effective number of independent forecasts among ``d`` (Kish's design effect).

    A forecast's unit is one kommun, series group and year: the women's and men's series are
    counted with the total (their errors move together), and so are the parts of one group (e.g.
    bankruptcies per SNI code), by averaging their scaled errors. Units of one KPI and year form a
    cluster (a common shock, such as the 2022 fall in unemployment, hits every kommun at once).
    With n units in k clusters of mean size m₀ and the intra-cluster correlation ρ of the scaled
    errors (one-way ANOVA estimator), n_eff = n / (1 + (m₀ − 1) ρ) (Kish (1965), *Survey
    Sampling*, sec. 5.4), between k and n.
    """
    if d.empty:
        return 0.0
    mun = pd.factorize(_first_part(d["series"]))[0].astype("int64")
    grp = pd.factorize(d["group"])[0].astype("int64")
    yr = d["year"].to_numpy().astype("int64")
    yr = yr - yr.min()
    cluster = grp * (int(yr.max()) + 1) + yr
    unit_codes, unit_first = np.unique(cluster * (int(mun.max()) + 1) + mun, return_inverse=True)
    ev = d["e"].to_numpy(dtype="float64")
    cnt = np.bincount(unit_first)
    units = pd.DataFrame(
        {
            "e": np.bincount(unit_first, weights=ev) / cnt,
            "cl": unit_codes // (int(mun.max()) + 1),
        }
    )
    e = units["e"].to_numpy(dtype="float64")
    cl = pd.factorize(units["cl"])[0]
    n, k = e.size, int(cl.max()) + 1
    if k < 2 or n <= k:
        return float(min(n, k)) if n <= k else float(n)
    m = np.bincount(cl).astype("float64")
    means = np.bincount(cl, weights=e) / m
    msb = float((m * (means - e.mean()) ** 2).sum() / (k - 1))
    msw = float(((e - means[cl]) ** 2).sum() / (n - k))
    m0 = (n - float((m**2).sum()) / n) / (k - 1)
    rho = (msb - msw) / (msb + (m0 - 1) * msw) if msb + (m0 - 1) * msw > 0 else 0.0
    rho = min(max(rho, 0.0), 1.0)
    return float(min(max(n / (1 + (m0 - 1) * rho), k), n))


def _first_part(values: pd.Series) -> np.ndarray:
    """The text before the first '|' of each value (computed once per distinct value)."""
    codes, uniq = pd.factorize(values)
    return np.array([str(u).split("|", 1)[0] for u in uniq], dtype=object)[codes]


def _weights(years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Year codes of ``years`` and the year-block bootstrap's weights (draws x years)."""
    codes, uniq = pd.factorize(pd.Series(years))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    w = rng.multinomial(len(uniq), np.full(len(uniq), 1.0 / len(uniq)), size=BOOTSTRAP_DRAWS)
    return codes, w.astype("float64")


def ratio_ci90(years: np.ndarray, num: np.ndarray, den: np.ndarray) -> list[float] | None:
    """Year-block bootstrap 90 % interval of Σ num / Σ den: whole years are resampled, since the
    forecasts of one year share its shocks (None with fewer than three years)."""
    if len(years) == 0 or len(np.unique(years)) < 3:
        return None
    codes, w = _weights(years)
    a = np.bincount(codes, weights=num)
    b = np.bincount(codes, weights=den)
    den_w = w @ b
    r = (w @ a)[den_w > 0] / den_w[den_w > 0]
    if r.size == 0:
        return None
    lo, hi = np.quantile(r, [0.05, 0.95])
    return [round(float(lo), 4), round(float(hi), 4)]


def _brier_skill_ci90(years: np.ndarray, p: np.ndarray, o: np.ndarray) -> list[float] | None:
    """Year-block bootstrap 90 % interval of the Brier skill against the base rate."""
    if len(years) == 0 or len(np.unique(years)) < 3:
        return None
    codes, w = _weights(years)
    n = w @ np.bincount(codes).astype("float64")
    bs = (w @ np.bincount(codes, weights=(p - o) ** 2)) / n
    base = (w @ np.bincount(codes, weights=o)) / n
    ref = base * (1 - base)
    ok = ref > 0
    if not ok.any():
        return None
    lo, hi = np.quantile(1 - bs[ok] / ref[ok], [0.05, 0.95])
    return [round(float(lo), 4), round(float(hi), 4)]


def _abs_scaled(d: pd.DataFrame, actual: str = "actual") -> np.ndarray:
    """Absolute scaled errors of the forecasts ``d`` against column ``actual``."""
    return ((d[actual] - d["point"]).abs() / d["scale"]).to_numpy(dtype="float64")


def _is80(d: pd.DataFrame, suffix: str = "") -> np.ndarray:
    """Scaled 80 % interval scores of ``d``'s intervals ``lo80{suffix}``/``hi80{suffix}``."""
    return interval_score(
        d[f"lo80{suffix}"].to_numpy(dtype="float64"),
        d[f"hi80{suffix}"].to_numpy(dtype="float64"),
        d["actual"].to_numpy(dtype="float64"),
    ) / d["scale"].to_numpy(dtype="float64")


def _pop_band(d: pd.DataFrame) -> pd.Series:
    """Kommun size band of each forecast, read from its error band (annual 'KPI|band|h1',
    sub-annual 'aggregation|size|band')."""
    codes, uniq = pd.factorize(d["band"].astype(str) + "#" + d["family"].astype(str))

    def one(u: str) -> str:
        band, fam = u.rsplit("#", 1)
        parts = band.split("|")
        i = 1 if fam == "annual" else 2
        return parts[i] if len(parts) > i else ""

    return pd.Series(np.array([one(u) for u in uniq], dtype=object)[codes], index=d.index)


def coverage_ci90(years: np.ndarray, hits: np.ndarray) -> list[float] | None:
    """Year-block bootstrap 90 % interval of a coverage (the share of ``hits``): a year's
    forecasts miss or hit together when its shock is large, so whole years are resampled."""
    hits = np.asarray(hits, dtype="float64")
    return ratio_ci90(np.asarray(years), hits, np.ones_like(hits))


def _coverage(d: pd.DataFrame) -> dict[str, Any]:
    """n, effective n and the 80 % / 95 % coverage, each with its year-block 90 % interval, of
    forecasts with a real calibration (not the fixed fallback)."""
    c = d[~d["flagged"].astype(bool)]
    if c.empty:
        return {
            "n": 0,
            "effective_n": 0.0,
            "coverage80": None,
            "coverage95": None,
            "coverage80_ci90": None,
            "coverage95_ci90": None,
        }
    a, years = c["actual"], c["year"].to_numpy()
    hit80 = ((a >= c["lo80"]) & (a <= c["hi80"])).to_numpy()
    hit95 = ((a >= c["lo95"]) & (a <= c["hi95"])).to_numpy()
    return {
        "n": int(len(c)),
        "effective_n": round(effective_n(c), 1),
        "coverage80": float(hit80.mean()),
        "coverage95": float(hit95.mean()),
        "coverage80_ci90": coverage_ci90(years, hit80),
        "coverage95_ci90": coverage_ci90(years, hit95),
    }


def _sharpness(dd: pd.DataFrame, nv: pd.DataFrame | None) -> dict[str, Any]:
    """Mean scaled 80 % interval scores of the default (track-record scaled), its pool-only
    intervals and the naive baseline's pool-only intervals, with the ratios and their CI90."""
    years = dd["year"].to_numpy()
    new, pool, level = _is80(dd), _is80(dd, "_poolw"), _is80(dd, "_level")
    raw = _is80(dd, "_pool")
    out: dict[str, Any] = {
        "interval_score80": float(new.mean()) if new.size else None,
        "interval_score80_pool_only": float(pool.mean()) if pool.size else None,
        "interval_score80_pool_unwidened": float(raw.mean()) if raw.size else None,
        "interval_score_vs_pool_unwidened": float(new.sum() / raw.sum()) if raw.sum() > 0 else None,
        "interval_score_vs_pool_unwidened_ci90": ratio_ci90(years, new, raw),
        "interval_score80_level_pool": float(level.mean()) if level.size else None,
        "interval_score_vs_level_pool": float(new.sum() / level.sum()) if level.sum() > 0 else None,
        "interval_score_vs_level_pool_ci90": ratio_ci90(years, new, level),
        "interval_score80_naive": None,
        "interval_score_vs_pool": float(new.sum() / pool.sum()) if pool.sum() > 0 else None,
        "interval_score_vs_pool_ci90": ratio_ci90(years, new, pool),
        "interval_score_vs_naive": None,
        "interval_score_vs_naive_ci90": None,
        "cred_used_share": float(dd["cred_used"].mean()) if "cred_used" in dd and len(dd) else None,
        "year_widening": _year_widening(dd),
    }
    if nv is not None and len(nv) == len(dd) and len(dd):
        naive = _is80(nv, "_poolw")
        out["interval_score80_naive"] = float(naive.mean())
        out["interval_score_vs_naive"] = float(new.sum() / naive.sum()) if naive.sum() > 0 else None
        out["interval_score_vs_naive_ci90"] = ratio_ci90(years, new, naive)
    return out


def _year_widening(dd: pd.DataFrame) -> dict[str, float | None]:
    """Over the calibrated forecasts: the mean number of years in their pools, the mean share of
    the pools' error variance common to a year, and the mean factor by which the widening for a
    new year stretched the 80 % interval beyond the row-level one."""
    if "n_years" not in dd or "between" not in dd:
        return {"pool_years_mean": None, "between_year_share_mean": None, "factor80_mean": None}
    c = dd[~dd["flagged"].astype(bool) & dd["between"].notna()]
    if c.empty:
        return {"pool_years_mean": None, "between_year_share_mean": None, "factor80_mean": None}
    i80 = int(np.searchsorted(cal.QUANTILE_GRID, 0.9))
    k = c["n_years"].to_numpy(dtype="int64")
    rho = c["between"].to_numpy(dtype="float64")
    stretch = np.array([cal._t_stretch(int(x))[i80] if x >= 2 else 1.0 for x in k])
    factor = np.sqrt((1 - rho) + rho * stretch**2)
    return {
        "pool_years_mean": round(float(k.mean()), 2),
        "between_year_share_mean": round(float(rho.mean()), 3),
        "factor80_mean": round(float(factor.mean()), 3),
    }


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
    out.update(_honest_figures(c, fam, default, out))
    return out


def _by_key(c: pd.DataFrame, method: str) -> pd.DataFrame:
    """The rows of ``method`` in ``c``, in (year, sid) order (aligned across methods)."""
    return c[c["method"] == method].sort_values(["year", "sid"], kind="stable")


def _honest_figures(
    c: pd.DataFrame, fam: str, default: str, cell: dict[str, Any]
) -> dict[str, Any]:
    """The figures that say how far a cell's claims go (issue 12's contract of the backtest JSON):
    effective n (and ``judged`` on it), a year-block bootstrap CI90 for every ratio, coverage
    where a real calibration applies (all years, the last five, the smallest size band), the
    fixed-fallback share, sharpness (interval scores), per indicator, and the latest vintage."""
    dd = _by_key(c, default)
    base = {m: _by_key(c, m) for m in ("naive_annual", "ytd_snaive") if (c["method"] == m).any()}
    years = dd["year"].to_numpy()
    ae = _abs_scaled(dd)
    eff = effective_n(dd)
    out: dict[str, Any] = {
        "effective_n": round(eff, 1),
        "judged": eff >= MIN_JUDGED,
        "fallback_share": float(dd["flagged"].mean()) if len(dd) else None,
    }
    for m, b in base.items():
        if m == "ytd_snaive" and fam == "annual":
            continue
        out[f"mase_vs_{m}_ci90"] = ratio_ci90(years, ae, _abs_scaled(b))
    if fam == "annual":
        out["mase_vs_ytd_snaive_ci90"] = None
    out["brier_skill_ci90"] = _brier_skill_ci90(
        years, dd["p_better"].to_numpy(dtype="float64"), dd["better"].to_numpy(dtype="float64")
    )
    cov = _coverage(dd)
    out["n_calibrated"] = cov["n"]
    out["coverage80_calibrated"] = cov["coverage80"]
    out["coverage95_calibrated"] = cov["coverage95"]
    out["coverage80_calibrated_ci90"] = cov["coverage80_ci90"]
    out["coverage95_calibrated_ci90"] = cov["coverage95_ci90"]
    out["effective_n_calibrated"] = cov["effective_n"]
    last = sorted(np.unique(years))[-LAST_YEARS:]
    band = _pop_band(dd)
    smallest = next((b for b in ("xs", "s", "m", "l", "xl") if (band == b).any()), None)
    out["coverage_calibrated_last5"] = {
        "years": [int(y) for y in last],
        **_coverage(dd[dd["year"].isin(last)]),
    }
    out["coverage_calibrated_smallest_band"] = {"band": smallest, **_coverage(dd[band == smallest])}
    out.update(_sharpness(dd, base.get("naive_annual")))
    out["by_indicator"] = _by_indicator(dd, base.get("naive_annual"))
    if fam != "annual":
        out["vs_latest_vintage"] = _latest_vintage(dd, base)
    for m in cell.get("methods", {}):
        md = _by_key(c, m)
        v = cell["methods"][m]
        for b_name, b in base.items():
            if (
                f"mase_vs_{b_name}" in v
                and v[f"mase_vs_{b_name}"] is not None
                and len(b) == len(md)
            ):
                v[f"mase_vs_{b_name}_ci90"] = ratio_ci90(
                    md["year"].to_numpy(), _abs_scaled(md), _abs_scaled(b)
                )
    return out


def _by_indicator(dd: pd.DataFrame, nv: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """Per series group (the KPI id for annual KPIs): n, effective n, MASE ratio to naive with its
    CI90, Brier skill, calibrated 80 % coverage and the interval scores (new / pool-only)."""
    out: dict[str, dict[str, Any]] = {}
    if dd.empty:
        return out
    aligned = nv is not None and len(nv) == len(dd)
    naive_ae = _abs_scaled(nv) if aligned and nv is not None else None
    ae = _abs_scaled(dd)
    groups = dd["group"].astype(str).to_numpy()
    for g in sorted(set(groups)):
        sel = groups == g
        d = dd[sel]
        m = _metrics(d)
        row: dict[str, Any] = {
            "n": int(sel.sum()),
            "effective_n": round(effective_n(d), 1),
            "mase_vs_naive_annual": None,
            "mase_vs_naive_annual_ci90": None,
            "brier_skill": m["brier_skill"],
            "coverage80_calibrated": _coverage(d)["coverage80"],
            "interval_score80": float(_is80(d).mean()),
            "interval_score80_pool_only": float(_is80(d, "_poolw").mean()),
            "interval_score80_pool_unwidened": float(_is80(d, "_pool").mean()),
            "interval_score80_level_pool": float(_is80(d, "_level").mean()),
            "interval_score_vs_level_pool": None,
            "interval_score_vs_level_pool_ci90": None,
        }
        new, level, pool = _is80(d), _is80(d, "_level"), _is80(d, "_poolw")
        row["interval_score_vs_pool"] = float(new.sum() / pool.sum()) if pool.sum() > 0 else None
        row["interval_score_vs_pool_ci90"] = ratio_ci90(d["year"].to_numpy(), new, pool)
        if level.sum() > 0:
            row["interval_score_vs_level_pool"] = float(new.sum() / level.sum())
            row["interval_score_vs_level_pool_ci90"] = ratio_ci90(d["year"].to_numpy(), new, level)
        if naive_ae is not None and naive_ae[sel].sum() > 0:
            row["mase_vs_naive_annual"] = float(ae[sel].sum() / naive_ae[sel].sum())
            row["mase_vs_naive_annual_ci90"] = ratio_ci90(
                d["year"].to_numpy(), ae[sel], naive_ae[sel]
            )
        out[g] = row
    return out


def _latest_vintage(dd: pd.DataFrame, base: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The default scored against the latest vintage, on series with two vintages (the first
    reported outcome is what the main figures use), with the MASE ratios and their CI90."""
    if "revised" not in dd or "actual_latest" not in dd:
        return {"n": 0}
    sel = (dd["revised"].astype(bool) & np.isfinite(dd["actual_latest"].astype(float))).to_numpy()
    out: dict[str, Any] = {"n": int(sel.sum())}
    if not sel.any():
        return out
    d = dd[sel]
    years = d["year"].to_numpy()
    for actual, suffix in (("actual", "_first_vintage"), ("actual_latest", "")):
        ae = _abs_scaled(d, actual)
        for m, b in base.items():
            if len(b) != len(dd):
                continue
            bae = _abs_scaled(b[sel], actual)
            out[f"mase_vs_{m}{suffix}"] = float(ae.sum() / bae.sum()) if bae.sum() > 0 else None
            out[f"mase_vs_{m}{suffix}_ci90"] = ratio_ci90(years, ae, bae)
    out["years"] = [int(years.min()), int(years.max())]
    return out


def mase_ratio(s: pd.DataFrame, fam: str, cutoff: str, a: str, b: str) -> float | None:
    """MASE of method ``a`` over ``b`` on the forecasts both made (None when either is missing)."""
    c = s[(s["family"] == fam) & (s["cutoff"] == cutoff) & s["method"].isin((a, b))]
    ae = (c["actual"] - c["point"]).abs() / c["scale"]
    t = ae.groupby([c["year"], c["sid"], c["method"]]).first().unstack("method")
    if a not in t or b not in t:
        return None
    t = t.dropna(subset=[a, b])
    return float(t[a].mean() / t[b].mean()) if len(t) and t[b].mean() > 0 else None


def choose_defaults(scored: pd.DataFrame, origin: int | None = None) -> dict[str, str]:
    """Default per family: 'selected' for monthly/quarterly series, ``ses_pooled`` or ``naive_annual`` for annual.

    Monthly/quarterly: the method chosen per (family, cutoff, aggregation) by rolling-origin
    validation on earlier years (:func:`select_methods`); its evaluation on later years is the
    'selected' rows, so the choice itself never sees the years it is judged on. Annual:
    ``ses_pooled`` (its weight chosen per KPI on earlier years) if its MASE is below
    ``naive_annual``'s at both cutoffs, else ``naive_annual``. With ``origin``, on the forecast
    years that may calibrate that origin year only (annual: before ``origin - 1``).
    """
    s = scored[~scored["year"].isin(SHOCK_YEARS)]
    if origin is not None:
        lim = np.where(s["family"].eq("annual"), origin - 1, origin)
        s = s[s["year"].to_numpy() < lim]
    out = dict(cal.FALLBACK_DEFAULTS)
    for fam in ("monthly", "quarterly"):
        out[fam] = (
            "selected"
            if (s["method"].eq("selected") & s["family"].eq(fam)).any()
            else SELECT_FALLBACK
        )
    ratios = [mase_ratio(s, "annual", c, "ses_pooled", "naive_annual") for c in ("T1", "T2")]
    out["annual"] = (
        "ses_pooled" if all(r is not None and r < 1.0 for r in ratios) else "naive_annual"
    )
    return out


#: The columns of scored forecasts the summary reads (the others are left behind: faster).
SUMMARY_COLUMNS = (
    "family", "cutoff", "method", "year", "sid", "series", "group", "e", "actual", "point",
    "scale", "last", "lo80", "hi80", "lo95", "hi95", "lo80_pool", "hi80_pool", "lo95_pool",
    "hi95_pool", "lo80_poolw", "hi80_poolw", "lo80_level", "hi80_level", "flagged", "p_better", "better", "band", "cred_used", "revised",
    "n_years", "between",
    "actual_latest", "chosen", "agg",
)  # fmt: skip


def summarise(scored: pd.DataFrame, defaults: dict[str, str], runtime_s: float) -> dict[str, Any]:
    """The backtest's JSON: ``runtime_s`` and ``cells`` (T1/T2 x monthly/quarterly/annual), plus 2020 apart."""
    scored = scored[[c for c in SUMMARY_COLUMNS if c in scored]]
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
        "coverage_note": "Main cells exclude 2020 (shock year, reported apart under shock_2020). Cells with an effective n < 100 are reported but not judged. "
        "effective_n: Kish's design effect over KPI x year clusters, with the women/men series (and the parts of a group) counted with the total. "
        "*_ci90: year-block bootstrap (whole forecast years resampled). *_calibrated: forecasts with a real calibration, not the fixed fallback (fallback_share). "
        "interval_score80: mean scaled 80 % interval (Winkler) score of the default intervals (scaled by each series' own track record where that won on earlier years), "
        "_pool_only: the same method with its KPI (or aggregation) x size band pool's intervals alone, widened for a new year as the default is (_pool_unwidened: not widened), _level_pool: the same pool with errors relative to 2 % of the level (blind to the series' own volatility), _naive: naive_annual with its pool's intervals. All in the series' own scale units, so their ratios compare like with like. vs_latest_vintage: sub-annual series with two vintages scored against the latest.",
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
