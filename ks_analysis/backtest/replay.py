"""Backtest replay: vintage-honest rolling-origin forecasts at the real cutoffs, through the forecast engine.

At every origin (30 April = T1, 31 August = T2, 31 December = Y of each year) each series is
forecast by every method from only the rows published by that date, and scored against the
full-year outcome (:mod:`~ks_analysis.backtest.score`). Sub-annual series are forecast by the
engine's fallback ladder (:func:`ks_analysis.forecast.engine.ladder_point`) with the engine's
pooled seasonal profile and error bands, so a change to the engine reaches the backtest; annual
KPIs are replayed vectorised over kommuner for every SES weight and damped step (the candidates
:mod:`~ks_analysis.backtest.select` tunes), with the engine's error bands.

The sub-annual default ('selected') is chosen by rolling-origin validation: for each evaluation
year the method with the lowest MASE on earlier years only (:func:`select_methods`), so its
figures are those of the selection procedure on years it never saw. Annual KPIs likewise choose
their SES weight or damped step per KPI on earlier years (``ses_pooled``).

The same run writes the calibration file (``ks_analysis/data/calibration.json``) that the report's
forecasts use, and a summary (``ks_analysis/data/track_record.json``) that the report cites.
This module also re-exports the backtest's public names, so notebooks can use one module.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.backtest.calibrate import (
    annual_tuning_by_origin,
    calibration_origins,
    scale_floors,
    write_calibration,
)
from ks_analysis.backtest.design import (
    ANNUAL_EVAL_METHODS,
    BACKTEST_SERIES,
    CUTOFF_KINDS,
    MIN_JUDGED,
    SES_ALPHAS,
    SHOCK_YEARS,
    SUBYEAR_EVAL_METHODS,
    TREND_PHIS,
    SeriesRule,
    origins,
    outcome_vintage,
)
from ks_analysis.backtest.nowcast import run_nowcast_backtest
from ks_analysis.backtest.score import (
    BAND_LEVELS,
    choose_defaults,
    reliability_table,
    score_backtest,
    summarise,
)
from ks_analysis.backtest.select import (
    MIN_SELECT,
    SELECT_FALLBACK,
    AnnualTuning,
    annual_tuning,
    select_methods,
    selection_cell,
)
from ks_analysis.backtest.track_record import (
    TRACK_RECORD_FILE,
    by_indicator_table,
    format_table,
    goal_table,
    json_default,
    method_table,
    plot_reliability,
    selection_table,
    track_record_summary,
    track_record_table,
    track_record_text_sv,
    write_summary,
)
from ks_analysis.backtest.vintages import Panel, load_vintages, panels
from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast import engine
from ks_analysis.forecast import methods as m

__all__ = [
    "SeriesRule",
    "BACKTEST_SERIES",
    "CUTOFF_KINDS",
    "SHOCK_YEARS",
    "MIN_JUDGED",
    "MIN_SELECT",
    "SELECT_FALLBACK",
    "SES_ALPHAS",
    "TREND_PHIS",
    "ANNUAL_EVAL_METHODS",
    "SUBYEAR_EVAL_METHODS",
    "BAND_LEVELS",
    "TRACK_RECORD_FILE",
    "AnnualTuning",
    "load_vintages",
    "run_backtest",
    "replay_panels",
    "run_and_summarise",
    "score_backtest",
    "choose_defaults",
    "summarise",
    "annual_tuning",
    "select_methods",
    "selection_cell",
    "write_calibration",
    "calibration_origins",
    "annual_tuning_by_origin",
    "scale_floors",
    "write_summary",
    "json_default",
    "format_table",
    "track_record",
    "track_record_summary",
    "track_record_table",
    "by_indicator_table",
    "track_record_text_sv",
    "method_table",
    "selection_table",
    "goal_table",
    "reliability_table",
    "plot_reliability",
]

log = logging.getLogger(__name__)

#: Years of a group's complete series-years its pooled seasonal profile averages.
SHARE_YEARS = 5
_NO_YEARS = np.zeros(0)


# --------------------------------------------------------------------------- forecasting at origins


def _years(years: range, progress: bool, desc: str) -> Iterable[int]:
    """The origin years, with a progress bar when asked."""
    if not progress:
        return years
    from tqdm import tqdm

    return tqdm(list(years), desc=desc, unit="year", leave=False)


def _group_share(at: np.ndarray, sids: np.ndarray, yi: int) -> np.ndarray | None:
    """The engine's pooled seasonal profile over a group's series-years before year index ``yi``."""
    block = at[sids, max(0, yi - SHARE_YEARS) : yi, :].reshape(-1, at.shape[2])
    return engine.seasonal_profile(block)


def _group_pool(at: np.ndarray, sids: np.ndarray, yi: int) -> m.GroupPool | None:
    """The group's yearly totals and overdispersion before year index ``yi``
    (:func:`ks_analysis.forecast.methods.group_pool`, as a report computes it from its peers)."""
    return m.group_pool(at[sids, max(0, yi - m.POOL_YEARS) : yi, :])


def _pool_for(
    pools: dict[Any, m.GroupPool | None] | None, key: Any, n_hist: int
) -> m.GroupPool | None:
    """The pool of a series' peers aligned to its ``n_hist`` history rows (None without one)."""
    pool = (pools or {}).get(key)
    return None if pool is None else replace(pool, n_hist=n_hist)


def _actual_years(panel: Panel, yi: int, latest_years: np.ndarray) -> np.ndarray:
    """Each series' outcome of year index ``yi`` as first reported, else in the latest vintage.

    The full year as published by 30 April of the next year is the vintage the year-end
    follow-up sees; where the year is not complete by then, the latest vintage.
    """
    first = panel.at(outcome_vintage(panel.y0 + yi))[:, yi, :]
    first_years = np.array(
        [
            m.aggregate_year(first[s], a)
            for s, a in zip(panel.meta["sid"], panel.meta["aggregation"], strict=True)
        ]
    )
    return np.where(np.isfinite(first_years), first_years, latest_years[:, yi])


def _subyear_records(
    panel: Panel, methods: tuple[str, ...], progress: bool
) -> list[dict[str, Any]]:
    """One record per (series, year, cutoff, method) with point, actual, scale and last value."""
    recs: list[dict[str, Any]] = []
    ny = panel.latest.shape[1]
    meta = panel.meta
    latest_years = np.stack(
        [
            m.yearly_from_matrix(panel.latest[s], a)
            for s, a in zip(meta["sid"], meta["aggregation"], strict=True)
        ]
    )
    groups = {g: d["sid"].to_numpy() for g, d in meta.groupby("group")}
    # a report's peers of a series: the same indicator and gender in every kommun and län
    peers = {k: d["sid"].to_numpy() for k, d in meta.groupby(["indicator", "gender"])}
    rows = meta.to_dict("records")  # one dict per sid (sid = row position)
    revised = _revised_sids(panel)
    freq = "M" if panel.P == 12 else "Q"
    params = cal.method_context(freq, "sum", False)
    fam = engine.family_of(freq)
    for yi in _years(range(1, ny), progress, f"backtest {fam}"):
        year = panel.y0 + yi
        actual_years = _actual_years(panel, yi, latest_years)
        for cname, cutoff in origins(year):
            at = panel.at(cutoff)
            shares = {g: _group_share(at, sids, yi) for g, sids in groups.items()}
            pools = {k: _group_pool(at, sids, yi) for k, sids in peers.items()}
            for sid in meta["sid"].to_numpy():
                if not np.isfinite(actual_years[sid]):
                    continue
                case = _subyear_case(
                    rows[sid], panel.P, at[sid, :yi, :], at[sid, yi, :], params, shares, pools
                )
                if case is None:
                    continue
                base, ctx = case
                base.update(family=fam, cutoff=cname, year=year, actual=float(actual_years[sid]))
                # the outcome in the latest vintage too, where the series has two vintages
                base.update(actual_latest=float(latest_years[sid, yi]), revised=sid in revised)
                for name in methods:
                    lp = engine.ladder_point(name, at[sid, :yi, :], at[sid, yi, :], ctx)
                    if lp.point is None:
                        continue
                    recs.append({**base, "method": name, "point": lp.point, "rung": lp.rung})
    return recs


def _revised_sids(panel: Panel) -> set[int]:
    """Series with two vintages: some sub-period published with two different values."""
    r = panel.rows
    n = r.groupby(["sid", "yi", "sub"])["value"].nunique()
    return {int(x) for x in n[n > 1].index.get_level_values("sid").unique()}


def _subyear_case(
    row: dict[str, Any],
    P: int,
    hist: np.ndarray,
    cur: np.ndarray,
    params: m.MethodContext,
    shares: dict[Any, np.ndarray | None],
    pools: dict[Any, m.GroupPool | None] | None = None,
) -> tuple[dict[str, Any], m.MethodContext] | None:
    """A series-year the backtest forecasts at an origin: its record fields and method context.

    None when the year is already published, the history is shorter than three full years (or
    misses last year), the series is below its rule's level, or its history is constant.
    """
    if (~np.isnan(cur)).all():
        return None  # the year is already published: an outcome, not a forecast
    agg = str(row["aggregation"])
    known_years = m.yearly_from_matrix(hist, agg)
    fin = known_years[np.isfinite(known_years)]
    if fin.size < 3 or not np.isfinite(known_years[-1]):
        return None  # need last year and a scale from at least two year-on-year changes
    level = float(np.mean(fin[-3:])) * (
        12 if agg == "mean" and P == 12 else 4 if agg == "mean" else 1
    )
    if level < float(row["min_level"]):
        return None
    scale = m.mase_scale(known_years, rel_floor=m.REL_SCALE_FLOOR_SUBYEAR)
    if scale is None:
        return None  # constant history: an error cannot be scaled
    is_count = bool(row["is_count"])
    fam = "monthly" if P == 12 else "quarterly"
    bands = engine.error_bands(
        fam, aggregation=agg, is_count=is_count, years=known_years, pop_band=str(row["pop_band"])
    )
    ctx = m.MethodContext(
        aggregation=agg,
        is_count=is_count,
        seasonal_share=shares[str(row["group"])],
        damping=params.damping,
        ets_params=params.ets_params,
        pool=_pool_for(pools, (row["indicator"], row["gender"]), hist.shape[0]),
    )
    ytd = float(np.nansum(cur))
    base = {
        "family": fam, "cutoff": "", "year": 0, "sid": int(row["sid"]), "group": str(row["group"]),
        "series": "|".join(str(row[c]) for c in ("municipality", "indicator", "gender")),
        "actual": np.nan, "scale": scale, "last": float(known_years[-1]),
        "sign": 1.0 if row["direction"] == "higher_is_better" else -1.0,
        "b0": bands[0], "band": bands[0], "b1": bands[1], "b2": bands[2],
        "floor": ytd if (agg == "sum" and (is_count or np.nanmin(np.r_[fin, cur[~np.isnan(cur)]]) >= 0)) else np.nan,
        "known": int((~np.isnan(cur)).sum()), "agg": agg,
    }  # fmt: skip
    return base, ctx


def _annual_records(panel: Panel, progress: bool) -> list[pd.DataFrame]:
    """Annual point values: naive and SES for every weight, at each origin, vectorised over kommuner."""
    frames: list[pd.DataFrame] = []
    vals_latest = panel.latest[:, :, 0]
    ny = vals_latest.shape[1]
    meta = panel.meta
    sign = np.where(meta["direction"].to_numpy() == "higher_is_better", 1.0, -1.0)
    series = (meta["municipality"] + "|" + meta["indicator"] + "|" + meta["gender"]).to_numpy()
    groups = meta["group"].to_numpy()
    ind_pop = (meta["indicator"] + "|" + meta["pop_band"]).to_numpy()
    ind = meta["indicator"].to_numpy()
    rows = np.arange(vals_latest.shape[0])
    pop_band = meta["pop_band"].to_numpy()
    for yi in _years(range(2, ny), progress, "backtest annual"):
        year = panel.y0 + yi
        for cname, cutoff in origins(year):
            full = panel.at(cutoff)[:, : yi + 1, 0]
            at = full[:, :yi]
            actual = vals_latest[:, yi]
            known_now = np.isfinite(full[:, yi])
            fin = np.isfinite(at)
            has = fin.any(axis=1)
            last_idx = np.where(has, yi - 1 - np.argmax(fin[:, ::-1], axis=1), -1)
            naive = np.where(has, at[rows, np.maximum(last_idx, 0)], np.nan)
            scale = _floor_scale(_recent_scale(at, naive), ind_pop)
            ok = (
                np.isfinite(actual)
                & has
                & (fin.sum(axis=1) >= 3)
                & ~known_now
                & (yi - last_idx <= 2)
                & np.isfinite(scale)
                & (scale > 1e-9)
            )
            if not ok.any():
                continue
            sel = np.flatnonzero(ok)
            h = np.minimum(yi - last_idx[sel], 2)
            steady = cal.steadiness(at[sel])
            bands = [
                engine.error_bands("annual", aggregation="point", is_count=False, years=_NO_YEARS,
                                   indicator=str(i), pop_band=str(b), horizon=int(hh),
                                   trend=cal.trend_label(float(t)))
                for i, b, hh, t in zip(ind[sel], pop_band[sel], h, steady, strict=True)
            ]  # fmt: skip
            # the most specific pool (b0) is by the kind of recent changes where known
            b0 = [x[0] for x in bands]
            band, b1, b2 = (list(x) for x in zip(*(x[-3:] for x in bands), strict=True))
            base = pd.DataFrame(
                {
                    "family": "annual", "cutoff": cname, "year": year, "sid": sel, "group": groups[sel], "series": series[sel],
                    "actual": actual[sel], "scale": scale[sel], "last": naive[sel], "sign": sign[sel], "floor": np.nan,
                    "known": 0, "horizon": h, "b0": b0, "band": band, "b1": b1, "b2": b2, "rung": 0,
                }
            )  # fmt: skip
            frames.append(base.assign(method="naive_annual", point=naive[sel]))
            for a in SES_ALPHAS:
                frames.append(base.assign(method=f"ses_{a:g}", point=_ses(at, a)[sel]))
            prev = at[rows, np.maximum(last_idx - 1, 0)]
            step = np.where((last_idx >= 1) & np.isfinite(prev), naive - prev, 0.0)
            for phi in TREND_PHIS:
                frames.append(
                    base.assign(method=f"ses_1_d{phi:g}", point=(naive + phi * step)[sel])
                )
    return frames


def _recent_scale(at: np.ndarray, last: np.ndarray, k: int = 6) -> np.ndarray:
    """Per row: mean absolute change over the last ``k`` consecutive known pairs, floored at
    :data:`ks_analysis.forecast.methods.REL_SCALE_FLOOR` of the last value, as
    :func:`ks_analysis.forecast.methods.mase_scale` does for a report's forecast.

    NaN for a row without two consecutive known years (e.g. a KPI published every other year):
    its error cannot be scaled like the pools', so it is left out.
    """
    d = np.abs(np.diff(at, axis=1))
    fin = np.isfinite(d)
    # the last k known changes of each row: those with at most k known changes at or after them
    after = np.cumsum(fin[:, ::-1], axis=1)[:, ::-1]
    take = fin & (after <= k)
    cnt = take.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(cnt > 0, np.where(take, d, 0.0).sum(axis=1) / cnt, np.nan)
    return np.where(np.isfinite(out), np.fmax(out, m.REL_SCALE_FLOOR * np.abs(last)), np.nan)


def _floor_scale(scale: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Scales floored at :data:`ks_analysis.forecast.calibration.SCALE_FLOOR_SHARE` of the median scale of
    the same KPI and kommun size band at the same origin (a series near zero, e.g. 0.1 new firms
    per 1000 for years, otherwise turns an ordinary change into an error of 100 scale units)."""
    out = np.array(scale, dtype="float64", copy=True)
    ok = np.isfinite(out) & (out > 0)
    if not ok.any():
        return out
    med = pd.Series(out[ok]).groupby(np.asarray(keys)[ok]).median()
    floor = pd.Series(np.asarray(keys)).map(med).to_numpy(dtype="float64") * cal.SCALE_FLOOR_SHARE
    return np.where(
        np.isfinite(floor) & np.isfinite(out), np.fmax(out, floor), out
    )  # no scale stays NaN (left out)


def _ses(at: np.ndarray, alpha: float) -> np.ndarray:
    """Simple exponential smoothing over each row's known values (gaps skipped), vectorised."""
    level = np.full(at.shape[0], np.nan)
    for j in range(at.shape[1]):
        v = at[:, j]
        f = np.isfinite(v)
        first = f & ~np.isfinite(level)
        level = np.where(first, v, level)
        upd = f & ~first
        level = np.where(upd, alpha * v + (1 - alpha) * level, level)
    return level


def run_backtest(
    raw_root: Path,
    sources_file: Path | None = None,
    *,
    rules: tuple[SeriesRule, ...] | None = None,
    progress: bool = False,
    methods: tuple[str, ...] = SUBYEAR_EVAL_METHODS,
) -> pd.DataFrame:
    """Forecast every selected real series at every origin with every method.

    Returns:
        One row per family x cutoff x year x series x method: point, actual, scale (the series'
        mean absolute year-on-year change known at the origin), last (last full-year value known
        at the origin), sign (+1 higher is better), band, floor (a sum's year to date), rung.
    """
    rules = rules or BACKTEST_SERIES
    vint, latest = load_vintages(raw_root, sources_file, rules=rules, progress=progress)
    records = replay_panels(panels(vint, latest, rules), methods=methods, progress=progress)
    records.attrs["publication_lags"] = vint.attrs.get("publication_lags", [])
    return records


def replay_panels(
    by_freq: dict[str, Panel],
    *,
    methods: tuple[str, ...] = SUBYEAR_EVAL_METHODS,
    progress: bool = False,
) -> pd.DataFrame:
    """The backtest records of panels (see :func:`run_backtest`): sub-annual through the engine's ladder."""
    frames: list[pd.DataFrame] = []
    for freq, panel in by_freq.items():
        if freq == "Y":
            frames.extend(_annual_records(panel, progress))
        else:
            frames.append(pd.DataFrame.from_records(_subyear_records(panel, methods, progress)))
    return pd.concat(frames, ignore_index=True)


def run_and_summarise(
    raw_root: Path, sources_file: Path | None = None, *, progress: bool = False
) -> tuple[dict[str, Any], pd.DataFrame, AnnualTuning]:
    """The whole backtest: forecasts at every origin, scoring, the default choice and the summary.

    Returns:
        ``(summary, scored, tuning)``: the JSON-ready summary (see :func:`summarise`), one row per
        scored forecast, and the SES weight and damped step chosen per KPI over all years (for
        :func:`write_calibration`).
    """
    t0 = time.perf_counter()
    records = run_backtest(raw_root, sources_file, progress=progress)
    # Taken off the frame: pandas deep-copies ``attrs`` into every frame derived from it, and
    # scoring derives tens of thousands (that copying took a sixth of the backtest).
    lags = records.attrs.pop("publication_lags", [])
    tuning = annual_tuning(records)
    tuning = annual_tuning_by_origin(records, tuning)
    scored = score_backtest(records)
    defaults = choose_defaults(scored)
    summary = summarise(scored, defaults, time.perf_counter() - t0)
    summary["publication_lags"] = lags
    summary["ses_alpha_by_indicator"] = tuning.ses_alpha
    summary["trend_phi_by_indicator"] = tuning.trend_phi
    summary["selected_methods"] = select_methods(scored)
    # Nowcasts of annual KPIs from in-year signals: their own family (backtest/nowcast.py).
    nowcast_cells, _, summary["nowcast_runtime_s"] = run_nowcast_backtest(raw_root, sources_file)
    summary["cells"].extend(nowcast_cells)
    summary["runtime_s"] = time.perf_counter() - t0
    summary["selection_note"] = (
        "Sub-annual default 'selected': for each evaluation year, the method with the lowest MASE on earlier years only "
        f"(shock years left out) per family, cutoff and aggregation; pooled over sub-annual series that know part of the year "
        f"when a cell has < {MIN_SELECT} earlier forecasts per method; '{SELECT_FALLBACK}' when both have too few. "
        "selected_methods is the choice on all years, used by the report's forecasts."
    )
    return summary, scored, tuning


def track_record(raw: str | Path = "", sources: str | Path = "") -> dict[str, Any]:
    """The track record for a notebook: the committed summary when ``raw`` is empty, else a fresh run.

    Args:
        raw: real data folder to rerun the backtest on; empty = the committed summary (no rerun).
        sources: its sources manifest; empty = ``data/real-sources.yaml`` of the project if present.
    """
    if not str(raw):
        return track_record_summary()
    from ks_analysis.paths import PROJECT_ROOT

    src: Path | None = Path(sources) if str(sources) else None
    if src is None and (PROJECT_ROOT / "data" / "real-sources.yaml").exists():
        src = PROJECT_ROOT / "data" / "real-sources.yaml"
    summary, _, _ = run_and_summarise(Path(raw), src)
    return summary
