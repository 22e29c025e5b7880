"""Backtest: vintage-honest rolling-origin forecasts at the real cutoffs, scored against the full year.

At every origin (30 April = T1, 31 August = T2, 31 December = Y of each year) each series is
forecast by every method from only the rows published by that date, and scored against the
full-year outcome in the latest vintage. Intervals and P(met) are split-conformal: they come from
the scaled errors of earlier years only (sub-annual: years before the evaluation year; annual:
two years before, since a Kolada year is published well into the next), pooled over series of
the same family, cutoff, method and size band. 2020 is a shock year and is reported apart.

The sub-annual default ('selected') is chosen by rolling-origin validation: for each evaluation
year the method with the lowest MASE on earlier years only (:func:`select_methods`), so its
figures are those of the selection procedure on years it never saw. Annual KPIs likewise choose
their SES weight or damped step per KPI on earlier years (``ses_pooled``).

The same run writes the calibration file (``ks_analysis/data/calibration.json``) that the report's
forecasts use, and a summary (``ks_analysis/data/track_record.json``) that the report cites.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast import methods as m
from ks_analysis.paths import PACKAGE_DATA_DIR

__all__ = [
    "SeriesRule",
    "BACKTEST_SERIES",
    "CUTOFFS",
    "SHOCK_YEARS",
    "TRACK_RECORD_FILE",
    "load_vintages",
    "run_backtest",
    "score_backtest",
    "summarise",
    "track_record_summary",
    "track_record_table",
    "selection_table",
    "select_methods",
    "reliability_table",
    "plot_reliability",
    "write_calibration",
]

log = logging.getLogger(__name__)

TRACK_RECORD_FILE = PACKAGE_DATA_DIR / "track_record.json"
#: Origins within a year: (name, month, day).
CUTOFFS = (("T1", 4, 30), ("T2", 8, 31), ("Y", 12, 31))
SHOCK_YEARS = (2020,)
#: A cell needs this many forecasts before its figures are judged.
MIN_JUDGED = 100
SUBYEAR_EVAL_METHODS = m.SUBYEAR_METHODS
ANNUAL_EVAL_METHODS = ("naive_annual", "ses_pooled")
SES_ALPHAS = (0.2, 0.35, 0.5, 0.7, 0.85, 1.0)
#: Damped year-on-year step added to the last value (annual candidates next to SES).
TREND_PHIS = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class SeriesRule:
    """Which tidy indicators the backtest uses and how a year of them is judged."""

    pattern: str  # regular expression on the indicator id
    aggregation: str  # sum / mean / point
    direction: str  # higher_is_better / lower_is_better
    group: str  # series in one group share a pooled seasonal profile / smoothing weight
    min_level: float = 0.0  # skip series whose yearly level is below this (near-empty categories)


#: The real series that fit (see ../shared/data/real/SOURCES.md and data/real-sources.yaml).
BACKTEST_SERIES: tuple[SeriesRule, ...] = (
    SeriesRule(r"TVA_NYSTARTADE", "sum", "higher_is_better", "TVA_NYSTARTADE"),
    SeriesRule(r"AF_ARBETSLOSA", "mean", "lower_is_better", "AF_ARBETSLOSA"),
    SeriesRule(r"SCB_BAS_ARBETSLOSHET(__.*)?", "mean", "lower_is_better", "SCB_BAS_ARBETSLOSHET"),
    SeriesRule(r"SCB_BAS_ARBETSLOSA", "mean", "lower_is_better", "SCB_BAS_ARBETSLOSA"),
    SeriesRule(r"SOS_EKB_HUSHALL", "mean", "lower_is_better", "SOS_EKB_HUSHALL"),
    SeriesRule(r"SOS_EKB_UTBETALT", "sum", "lower_is_better", "SOS_EKB_UTBETALT"),
    SeriesRule(r"BV_NYREG_.*", "sum", "higher_is_better", "BV_NYREG", min_level=20),
    SeriesRule(r"KONKURSER__.*", "sum", "lower_is_better", "KONKURSER", min_level=10),
    SeriesRule(r"SCB_BYGG_PABORJADE__.*", "sum", "higher_is_better", "SCB_BYGG_PABORJADE"),
    SeriesRule(r"SCB_BYGG_FARDIGSTALLDA__.*", "sum", "higher_is_better", "SCB_BYGG_FARDIGSTALLDA"),
    SeriesRule(r"SCB_BYGGLOV__.*", "sum", "higher_is_better", "SCB_BYGGLOV"),
    # Annual Kolada KPIs of the goal catalogue (point values), all kommuner.
    SeriesRule(r"N01951", "point", "higher_is_better", "N01951"),
    SeriesRule(r"N07917", "point", "higher_is_better", "N07917"),
    SeriesRule(r"N07923", "point", "higher_is_better", "N07923"),
    SeriesRule(r"N03926", "point", "lower_is_better", "N03926"),
    SeriesRule(r"N03920", "point", "lower_is_better", "N03920"),
    SeriesRule(r"N31816", "point", "lower_is_better", "N31816"),
    SeriesRule(r"N00999", "point", "higher_is_better", "N00999"),
    SeriesRule(r"N01004", "point", "higher_is_better", "N01004"),
    SeriesRule(r"N00926", "point", "lower_is_better", "N00926"),
    SeriesRule(r"U00408", "point", "higher_is_better", "U00408"),
)


# --------------------------------------------------------------------------- data


def _rule_for(indicator: str, rules: Iterable[SeriesRule]) -> SeriesRule | None:
    for r in rules:
        if re.fullmatch(r.pattern, indicator):
            return r
    return None


def load_vintages(
    raw_root: Path,
    sources_file: Path | None,
    *,
    rules: tuple[SeriesRule, ...] = BACKTEST_SERIES,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every vintage of the backtest series, and the latest values.

    Cleans the raw rows once per vintage boundary of a ``revisions`` source (the day before each
    dated snapshot) and once without ``as_of``; the union of those tables holds each value with
    the date it became known, so an origin can take the newest value published by its date.

    Returns:
        ``(vintages, latest)``: tidy rows (the first may repeat a key with different
        ``published``), restricted to indicators that match ``rules``.
    """
    from ks_analysis.clean import clean_indicators
    from ks_analysis.ingest.read import read_sources

    raw, specs, _ = read_sources(raw_root, sources_file, progress=progress)
    ids = pd.Series(pd.unique(raw["indicator"].astype("str")))
    keep = {i for i in ids if _rule_for(i, rules) is not None}
    raw = raw[raw["indicator"].astype("str").isin(keep)]
    boundaries = sorted({s.fixed_date for s in specs.values() if s.revisions and s.fixed_date})
    latest = clean_indicators(raw, specs).tidy
    frames = [latest]
    for b in boundaries:
        frames.append(clean_indicators(raw, specs, as_of=b - dt.timedelta(days=1)).tidy)
    vint = pd.concat(frames, ignore_index=True).drop_duplicates(
        subset=["municipality", "indicator", "gender", "period", "value", "published"]
    )
    return vint, latest


@dataclass
class _Panel:
    """Series of one frequency as arrays: values[sid, year, sub] per vintage row, plus metadata."""

    meta: (
        pd.DataFrame
    )  # sid -> municipality, indicator, gender, group, aggregation, direction, is_count
    rows: pd.DataFrame  # sid, yi, sub, value, published (datetime64)
    latest: np.ndarray  # [sid, yi, sub] newest values
    y0: int
    P: int

    def at(self, cutoff: dt.date) -> np.ndarray:
        """The panel as known at ``cutoff``: the newest value published by then, NaN otherwise."""
        r = self.rows[self.rows["published"] <= pd.Timestamp(cutoff)]
        r = r.drop_duplicates(subset=["sid", "yi", "sub"], keep="last")
        out = np.full(self.latest.shape, np.nan)
        out[r["sid"].to_numpy(), r["yi"].to_numpy(), r["sub"].to_numpy()] = r["value"].to_numpy()
        return out


def _pop_bands(latest: pd.DataFrame) -> dict[str, str]:
    """Size band per municipality from its latest inhabitants (N01951); län and riket are 'region'."""
    pop = (
        latest[(latest["indicator"] == "N01951") & (latest["gender"] == "T")]
        .sort_values("period")
        .groupby("municipality")["value"]
        .last()
    )
    out = {str(k): cal.population_band(float(v)) for k, v in pop.items()}
    for code in pd.unique(latest["municipality"]):
        if str(code).startswith("00"):
            out[str(code)] = "region"
    return out


def _panels(
    vint: pd.DataFrame, latest: pd.DataFrame, rules: tuple[SeriesRule, ...]
) -> dict[str, _Panel]:
    """Split the selected series by frequency into panels."""
    out: dict[str, _Panel] = {}
    bands = _pop_bands(latest)
    vint = vint.copy()
    ids = pd.unique(vint["indicator"])
    rule_of = {i: _rule_for(i, rules) for i in ids}
    vint["rule"] = vint["indicator"].map(rule_of)
    vint = vint[vint["rule"].notna()]
    # a rule says the aggregation: annual rules take Y rows, others their sub-annual rows
    vint = vint[
        (vint["rule"].map(lambda r: r.aggregation == "point") == (vint["frequency"] == "Y"))
    ]
    for freq, part in vint.groupby("frequency"):
        P = m.PERIODS_PER_YEAR[str(freq)]
        part = part.sort_values("published", kind="stable")
        keys = (
            part[["municipality", "indicator", "gender"]].drop_duplicates().reset_index(drop=True)
        )
        keys["sid"] = np.arange(len(keys))
        part = part.merge(keys, on=["municipality", "indicator", "gender"])
        p = part["period"].astype("str")
        part["year"] = p.str.slice(0, 4).astype(int)
        if P == 12:
            part["sub"] = p.str.slice(5, 7).astype(int) - 1
        elif P == 4:
            part["sub"] = p.str.slice(6, 7).astype(int) - 1
        else:
            part["sub"] = 0
        y0 = int(part["year"].min())
        ny = int(part["year"].max()) - y0 + 1
        part["yi"] = part["year"] - y0
        part = part.sort_values("published", kind="stable")
        lt = latest.merge(keys, on=["municipality", "indicator", "gender"])
        lt = lt[lt["frequency"] == freq]
        lp = lt["period"].astype("str")
        lyi = lp.str.slice(0, 4).astype(int) - y0
        lsub = (
            (lp.str.slice(5, 7).astype(int) - 1)
            if P == 12
            else (lp.str.slice(6, 7).astype(int) - 1)
            if P == 4
            else pd.Series(0, index=lp.index)
        )
        arr = np.full((len(keys), ny, P), np.nan)
        ok = (lyi >= 0) & (lyi < ny)
        arr[lt["sid"].to_numpy()[ok], lyi.to_numpy()[ok], lsub.to_numpy()[ok]] = lt[
            "value"
        ].to_numpy()[ok]
        rules_by_sid = keys["indicator"].map(rule_of)
        meta = keys.assign(
            group=rules_by_sid.map(lambda r: r.group),
            aggregation=rules_by_sid.map(lambda r: r.aggregation),
            direction=rules_by_sid.map(lambda r: r.direction),
            min_level=rules_by_sid.map(lambda r: r.min_level),
            pop_band=keys["municipality"].map(lambda c: bands.get(str(c), "unknown")),
        )
        units = part.groupby("sid")["unit"].first()
        vals = part.groupby("sid")["value"].agg(
            lambda v: bool((v >= 0).all() and np.allclose(v, np.round(v)))
        )
        meta["is_count"] = [
            (str(units.get(s, "")).lower() == "antal") and bool(vals.get(s, False))
            for s in meta["sid"]
        ]
        out[str(freq)] = _Panel(
            meta=meta,
            rows=part[["sid", "yi", "sub", "value", "published"]].reset_index(drop=True),
            latest=arr,
            y0=y0,
            P=P,
        )
    return out


# --------------------------------------------------------------------------- forecasting at origins


def _pooled_share(
    panel_at: np.ndarray, sids: np.ndarray, yi: int, years: int = 5
) -> np.ndarray | None:
    """Mean seasonal profile of the group's complete years before ``yi`` (each series-year normalised)."""
    block = panel_at[sids, max(0, yi - years) : yi, :].reshape(-1, panel_at.shape[2])
    block = block[~np.isnan(block).any(axis=1)]
    tot = block.sum(axis=1)
    block = block[tot > 0]
    if block.shape[0] == 0:
        return None
    prof = (block / block.sum(axis=1, keepdims=True)).mean(axis=0)
    return prof / prof.sum()


def _subyear_records(
    panel: _Panel, methods: tuple[str, ...], progress: bool
) -> list[dict[str, Any]]:
    """One record per (series, year, cutoff, method) with point, actual, scale and last value."""
    recs: list[dict[str, Any]] = []
    P = panel.P
    ny = panel.latest.shape[1]
    latest_years = np.stack(
        [
            m.yearly_from_matrix(panel.latest[s], a)
            for s, a in zip(panel.meta["sid"], panel.meta["aggregation"], strict=True)
        ]
    )
    groups = {g: d["sid"].to_numpy() for g, d in panel.meta.groupby("group")}
    meta = panel.meta.set_index("sid")
    freq = "M" if P == 12 else "Q"
    fam = "monthly" if P == 12 else "quarterly"
    params = cal.method_context(freq, "sum", False)
    it: Iterable[int] = range(1, ny)
    if progress:
        from tqdm import tqdm

        it = tqdm(list(it), desc=f"backtest {fam}", unit="year", leave=False)
    for yi in it:
        year = panel.y0 + yi
        # The outcome as first reported: the full year as published by 30 April of the next year
        # (the vintage the year-end follow-up sees); the latest vintage where not complete by then.
        first = panel.at(dt.date(year + 1, 4, 30))[:, yi, :]
        first_years = np.array(
            [
                m.aggregate_year(first[s], a)
                for s, a in zip(panel.meta["sid"], panel.meta["aggregation"], strict=True)
            ]
        )
        actual_years = np.where(np.isfinite(first_years), first_years, latest_years[:, yi])
        for cname, cm, cd in CUTOFFS:
            cutoff = dt.date(year, cm, cd)
            at = panel.at(cutoff)
            shares = {g: _pooled_share(at, sids, yi) for g, sids in groups.items()}
            for sid in panel.meta["sid"].to_numpy():
                actual = actual_years[sid]
                if not np.isfinite(actual):
                    continue
                agg = str(meta.at[sid, "aggregation"])
                hist = at[sid, :yi, :]
                cur = at[sid, yi, :]
                if (~np.isnan(cur)).all():
                    continue  # the year is already published: an outcome, not a forecast
                known_years = m.yearly_from_matrix(hist, agg)
                fin = known_years[np.isfinite(known_years)]
                if fin.size < 3 or not np.isfinite(known_years[-1]):
                    continue  # need last year and a scale from at least two year-on-year changes
                level = float(np.mean(fin[-3:])) * (
                    12 if agg == "mean" and P == 12 else 4 if agg == "mean" else 1
                )
                if level < float(meta.at[sid, "min_level"]):  # type: ignore[arg-type]
                    continue
                scale = m.mase_scale(known_years)
                if scale is None:
                    continue  # constant history: an error cannot be scaled
                is_count = bool(meta.at[sid, "is_count"])
                bands = cal.pool_bands(
                    fam,
                    aggregation=agg,
                    is_count=is_count,
                    years=known_years,
                    pop_band=str(meta.at[sid, "pop_band"]),
                )
                ctx = m.MethodContext(
                    aggregation=agg,
                    is_count=is_count,
                    seasonal_share=shares[str(meta.at[sid, "group"])],
                    damping=params.damping,
                    ets_params=params.ets_params,
                )
                ytd = float(np.nansum(cur))
                base = {
                    "family": fam, "cutoff": cname, "year": year, "sid": int(sid), "group": str(meta.at[sid, "group"]),
                    "series": "|".join(str(meta.at[sid, c]) for c in ("municipality", "indicator", "gender")),
                    "actual": float(actual), "scale": scale, "last": float(known_years[-1]),
                    "sign": 1.0 if meta.at[sid, "direction"] == "higher_is_better" else -1.0,
                    "band": bands[0], "b1": bands[1], "b2": bands[2],
                    "floor": ytd if (agg == "sum" and (is_count or np.nanmin(np.r_[fin, cur[~np.isnan(cur)]]) >= 0)) else np.nan,
                    "known": int((~np.isnan(cur)).sum()), "agg": agg,
                }  # fmt: skip
                for name in methods:
                    pt, rung = _ladder(name, hist, cur, ctx)
                    if pt is None:
                        continue
                    recs.append({**base, "method": name, "point": pt, "rung": rung})
    return recs


def _ladder(
    name: str, hist: np.ndarray, cur: np.ndarray, ctx: m.MethodContext
) -> tuple[float | None, int]:
    """The production fallback ladder (see forecast.LADDER_SUBYEAR)."""
    from ks_analysis.forecast.engine import LADDER_ANNUAL, LADDER_SUBYEAR

    ladder = (name,) + tuple(
        x for x in (LADDER_SUBYEAR if cur.shape[0] > 1 else LADDER_ANNUAL) if x != name
    )
    for rung, n in enumerate(ladder):
        v = m.METHODS[n](hist, cur, ctx)
        if v is not None and np.isfinite(v):
            return float(v), rung
    return None, len(ladder)


def _annual_records(panel: _Panel, progress: bool) -> list[pd.DataFrame]:
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
    it: Iterable[int] = range(2, ny)
    if progress:
        from tqdm import tqdm

        it = tqdm(list(it), desc="backtest annual", unit="year", leave=False)
    for yi in it:
        year = panel.y0 + yi
        for cname, cm, cd in CUTOFFS:
            full = panel.at(dt.date(year, cm, cd))[:, : yi + 1, 0]
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
            hs = np.char.add("|h", h.astype(str))
            base = pd.DataFrame(
                {
                    "family": "annual", "cutoff": cname, "year": year, "sid": sel, "group": groups[sel], "series": series[sel],
                    "actual": actual[sel], "scale": scale[sel], "last": naive[sel], "sign": sign[sel], "floor": np.nan,
                    "known": 0, "horizon": h, "band": np.char.add(ind_pop[sel].astype(str), hs),
                    "b1": np.char.add(ind[sel].astype(str), hs), "b2": ind[sel].astype(str), "rung": 0,
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
    """Per row: mean absolute change over the last ``k`` consecutive known pairs, floored at 2 % of the last value.

    NaN for a row without two consecutive known years (e.g. a KPI published every other year):
    its error cannot be scaled like the pools' (a scale of 2 % of the level made errors of
    hundreds of scale units), so it is left out, as :func:`ks_analysis.forecast.methods.mase_scale` does.
    """
    d = np.abs(np.diff(at, axis=1))
    out = np.full(at.shape[0], np.nan)
    for i in range(at.shape[0]):
        di = d[i][np.isfinite(d[i])][-k:]
        if di.size:
            out[i] = di.mean()
    return np.where(np.isfinite(out), np.fmax(out, 0.02 * np.abs(last)), np.nan)


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
    panels = _panels(vint, latest, rules)
    frames: list[pd.DataFrame] = []
    for freq, panel in panels.items():
        if freq == "Y":
            frames.extend(_annual_records(panel, progress))
        else:
            frames.append(pd.DataFrame.from_records(_subyear_records(panel, methods, progress)))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- scoring


def _ses_spec(method: str) -> tuple[float, float]:
    """(alpha, trend phi) of an annual candidate: 'ses_0.35' -> (0.35, 0); 'ses_1_d0.75' -> (1, 0.75)."""
    parts = method.split("_")
    phi = float(parts[2][1:]) if len(parts) > 2 and parts[2].startswith("d") else 0.0
    return float(parts[1]), phi


def _best_ses(records: pd.DataFrame, before_year: int) -> dict[str, str]:
    """Per KPI group, the annual candidate (SES weight or damped step) with the lowest MASE on origins before ``before_year``."""
    r = records[
        (records["family"] == "annual")
        & records["method"].str.match(r"ses_\d")
        & (records["year"] < before_year)
    ]
    if r.empty:
        return {}
    r = r.assign(ae=(r["actual"] - r["point"]).abs() / r["scale"])
    best = (
        r.groupby(["group", "method"])["ae"]
        .mean()
        .reset_index()
        .sort_values("ae")
        .drop_duplicates("group")
    )
    return {str(g): str(meth) for g, meth in zip(best["group"], best["method"], strict=True)}


def _choose_ses_alpha(records: pd.DataFrame, before_year: int) -> dict[str, float]:
    """Per KPI group, the SES weight of the candidate with the lowest MASE on origins before ``before_year``."""
    return {g: _ses_spec(meth)[0] for g, meth in _best_ses(records, before_year).items()}


def _choose_trend_phi(records: pd.DataFrame, before_year: int) -> dict[str, float]:
    """Per KPI group whose best candidate adds a damped year-on-year step: that step's weight phi."""
    return {
        g: _ses_spec(meth)[1]
        for g, meth in _best_ses(records, before_year).items()
        if _ses_spec(meth)[1] > 0
    }


def _with_ses_pooled(records: pd.DataFrame) -> pd.DataFrame:
    """Add method 'ses_pooled': per KPI group the candidate (SES weight, or the last value plus a
    damped share phi of its last year-on-year step) with the lowest MASE on earlier years only
    (years before the previous one, since a KPI's year is published late); SES 0.5 without history."""
    ann = records[records["family"].eq("annual") & records["method"].str.match(r"ses_\d")]
    if ann.empty:
        return records
    ae = ((ann["actual"] - ann["point"]).abs() / ann["scale"]).rename("ae")
    tab = (
        pd.concat([ann[["group", "method", "year"]], ae], axis=1)
        .groupby(["group", "method", "year"])["ae"]
        .agg(["sum", "count"])
        .reset_index()
    )
    years = sorted(ann["year"].unique())
    picks = []
    for year in years:
        prior = (
            tab[tab["year"] < year - 1]
            .groupby(["group", "method"])[["sum", "count"]]
            .sum()
            .reset_index()
        )
        prior["mase"] = prior["sum"] / prior["count"]
        best = prior.sort_values("mase").drop_duplicates("group")
        chosen = dict(zip(best["group"], best["method"], strict=True))
        for g in ann["group"].unique():
            picks.append((year, g, chosen.get(g, "ses_0.5")))
    pick = pd.DataFrame(picks, columns=["year", "group", "method"])
    sel = ann.merge(pick, on=["year", "group", "method"])
    return pd.concat([records, sel.assign(method="ses_pooled")], ignore_index=True)


#: Earlier forecasts a (family, cutoff, aggregation) cell needs before a method is selected for it.
MIN_SELECT = 100
#: The fallback when selection data are too few: the honest spreadsheet method.
SELECT_FALLBACK = "ytd_snaive"


def selection_cell(family: str, cutoff: str, aggregation: str) -> str:
    """Key of a method-selection cell: sub-annual family, cutoff (T1/T2/Y) and yearly aggregation."""
    return f"{family}|{cutoff}|{aggregation}"


def _select_table(records: pd.DataFrame) -> pd.DataFrame:
    """Per family, cutoff, aggregation, candidate method and year: sum and count of scaled absolute
    errors (shock years left out), and the same over all sub-annual families for forecasts that
    already know part of the year (family 'any')."""
    r = records[
        records["family"].ne("annual")
        & records["method"].isin(m.SUBYEAR_METHODS)
        & ~records["year"].isin(SHOCK_YEARS)
    ]
    ae = ((r["actual"] - r["point"]).abs() / r["scale"]).rename("ae")
    t = pd.concat([r[["family", "cutoff", "agg", "method", "year", "known"]], ae], axis=1)
    own = (
        t.groupby(["family", "cutoff", "agg", "method", "year"])["ae"]
        .agg(["sum", "count"])
        .reset_index()
    )
    part = t[t["known"] > 0]
    pooled = (
        part.groupby(["cutoff", "agg", "method", "year"])["ae"]
        .agg(["sum", "count"])
        .reset_index()
        .assign(family="any")
    )
    broad = (
        part.groupby(["agg", "method", "year"])["ae"]
        .agg(["sum", "count"])
        .reset_index()
        .assign(family="any", cutoff="any")
    )
    return pd.concat([own, pooled, broad], ignore_index=True)


def _best(d: pd.DataFrame) -> str | None:
    d = d[d["count"] >= MIN_SELECT]
    if d.empty or SELECT_FALLBACK not in set(d["method"]):
        return None
    mase = pd.Series((d["sum"] / d["count"]).to_numpy(), index=d["method"].to_numpy())
    if mase[SELECT_FALLBACK] <= mase.min() + 1e-12:
        return SELECT_FALLBACK  # a tie keeps the simple method
    return str(mase.idxmin())


def select_methods(records: pd.DataFrame, before_year: int | None = None) -> dict[str, str]:
    """The sub-annual method with the lowest MASE per selection cell on origins before ``before_year``.

    Rolling-origin model selection: only forecasts of earlier years (shock years left out) are
    compared, so choosing the method for a year never looks at that year's outcomes. A cell
    (family, cutoff, aggregation) with at least :data:`MIN_SELECT` earlier forecasts per method
    chooses on its own; otherwise on all sub-annual series at that cutoff and aggregation that
    already know part of the year, then on those at any cutoff; with too few there too,
    :data:`SELECT_FALLBACK`.
    ``before_year=None`` uses every year (the choice the report's forecasts use).
    """
    tab = _select_table(records)
    if before_year is not None:
        tab = tab[tab["year"] < before_year]
    g = tab.groupby(["family", "cutoff", "agg", "method"])[["sum", "count"]].sum().reset_index()
    cells = {k: d for k, d in g.groupby(["family", "cutoff", "agg"])}
    out: dict[str, str] = {}
    fams = records.loc[
        records["family"].ne("annual"), ["family", "cutoff", "agg"]
    ].drop_duplicates()
    for fam, cutoff, agg in fams.itertuples(index=False):
        empty = g.iloc[:0]
        pick = (
            _best(cells.get((fam, cutoff, agg), empty))
            or _best(cells.get(("any", cutoff, agg), empty))
            or _best(cells.get(("any", "any", agg), empty))
        )
        out[selection_cell(str(fam), str(cutoff), str(agg))] = pick or SELECT_FALLBACK
    return out


def _with_selected(records: pd.DataFrame) -> pd.DataFrame:
    """Add method 'selected': per evaluation year, the method :func:`select_methods` picks from earlier years only."""
    sub = records[records["family"].ne("annual")]
    if sub.empty or "agg" not in sub:
        return records
    picks = []
    for year in sorted(sub["year"].unique()):
        chosen = select_methods(sub, before_year=int(year))
        for fam, cutoff, agg in (
            sub[["family", "cutoff", "agg"]].drop_duplicates().itertuples(index=False)
        ):
            picks.append(
                (
                    int(year),
                    fam,
                    cutoff,
                    agg,
                    chosen.get(selection_cell(fam, cutoff, agg), SELECT_FALLBACK),
                )
            )
    pick = pd.DataFrame(picks, columns=["year", "family", "cutoff", "agg", "method"])
    sel = sub.merge(pick, on=["year", "family", "cutoff", "agg", "method"])
    return pd.concat(
        [records, sel.assign(chosen=sel["method"], method="selected")], ignore_index=True
    )


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
    records = _with_ses_pooled(records)
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
    return _with_selected(records)


def _metrics(d: pd.DataFrame) -> dict[str, Any]:
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
        "selection_by_year": _selection_by_year(scored),
        "coverage_note": "Main cells exclude 2020 (shock year, reported apart under shock_2020). Cells with n < 100 are reported but not judged.",
        "years": [years[0], years[-1]] if years else [],
        "series": {str(k): int(v) for k, v in series.items()},
        "min_judged": MIN_JUDGED,
    }


def _selection_by_year(scored: pd.DataFrame) -> list[dict[str, Any]]:
    """The method the rolling-origin selection chose for each evaluation year and cell (from earlier years only)."""
    if "chosen" not in scored:
        return []
    sel = scored[scored["method"].eq("selected")]
    g = (
        sel.groupby(["family", "cutoff", "agg", "year"])["chosen"]
        .agg(["first", "size"])
        .reset_index()
    )
    return [
        {
            "cell": selection_cell(str(f), str(c), str(a)),
            "year": int(y),
            "method": str(meth),
            "n": int(n),
        }
        for f, c, a, y, meth, n in g.itertuples(index=False)
    ]


def selection_table(summary: dict[str, Any] | None = None) -> pd.DataFrame:
    """Which method the selection used per cell (family|cutoff|aggregation) and evaluation year, chosen on earlier years only."""
    s = summary if summary is not None else track_record_summary()
    t = pd.DataFrame(s.get("selection_by_year", []))
    if t.empty:
        return t
    return t.pivot(index="year", columns="cell", values="method").fillna("")


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


# --------------------------------------------------------------------------- calibration file and summary


def write_calibration(
    scored: pd.DataFrame,
    defaults: dict[str, str],
    alphas: dict[str, float] | None = None,
    path: Path = cal.CALIBRATION_FILE,
) -> Path:
    """Write the error pools (quantiles of scaled errors, all non-shock years and 2020) and defaults.

    ``default_by_cell`` holds the sub-annual method per (family, cutoff, aggregation) that
    :func:`select_methods` picks on every backtest year: the same rule the backtest evaluated
    year by year on earlier years only, applied at the latest origin.
    """
    pools: dict[str, Any] = {}
    for (fam, cutoff, method), g in scored[scored["method"].ne("selected")].groupby(
        ["family", "cutoff", "method"]
    ):
        for lev in BAND_LEVELS:
            for band, gb in g.groupby(lev):
                eb = gb["e"].to_numpy()
                if eb.size < cal.MIN_POOLED:
                    continue  # too few: the forecast widens its own errors and flags itself
                pools[cal.CalibrationKey(str(fam), str(cutoff), str(method), str(band)).id()] = {
                    "n": int(eb.size),
                    "q": [round(x, 4) for x in cal.quantiles_of(eb)],
                }
    content = {
        "about": "Scaled forecast errors (actual - forecast) / mean |year-on-year change| from ks-analysis backtest on the real series; quantiles only, no data values.",
        "generated": dt.date.today().isoformat(),
        "quantile_grid": cal.QUANTILE_GRID.tolist(),
        "defaults": {f: (SELECT_FALLBACK if v == "selected" else v) for f, v in defaults.items()},
        "default_by_cell": select_methods(scored) if "agg" in scored else {},
        "params": {
            "M": {"damping": 0.5, "ets_params": [0.2, 0.1]},
            "Q": {"damping": 0.5, "ets_params": [0.2, 0.1]},
            "ses_alpha_by_indicator": alphas or {},
            "trend_phi_by_indicator": dict(scored.attrs.get("trend_phi_by_indicator", {})),
            "scale_floor_by_band": scale_floors(scored),
        },  # fmt: skip
        "pools": pools,
    }
    text = json.dumps(content, separators=(",", ":"))
    path.write_text(
        text.replace('},"', '},\n"') + "\n", encoding="utf-8"
    )  # one pool a line: readable diffs
    cal._load.cache_clear()
    return path


def scale_floors(scored: pd.DataFrame) -> dict[str, float]:
    """Annual KPIs: the scale floor a forecast applies, per 'KPI|kommun size band' and per KPI:
    :data:`ks_analysis.forecast.calibration.SCALE_FLOOR_SHARE` × the median scale at the latest origin year."""
    a = scored[
        scored["family"].eq("annual")
        & scored["method"].eq("naive_annual")
        & scored["cutoff"].eq("T1")
    ]
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


def track_record_summary(path: Path | None = None) -> dict[str, Any]:
    """The committed backtest summary the report's method section cites (no rerun needed).

    Returns the JSON written by ``ks-analysis backtest --write-summary``: ``runtime_s``,
    ``defaults``, ``cells`` (per cutoff T1/T2 and family: n, MASE ratios, win rate, coverage,
    Brier skill, per-method metrics), ``shock_2020``, ``reliability``. {} if none is committed.
    """
    p = path or TRACK_RECORD_FILE
    if not p.exists():
        return {}
    return dict(json.loads(p.read_text(encoding="utf-8")))


def track_record_table(
    summary: dict[str, Any] | None = None, *, key: str = "cells"
) -> pd.DataFrame:
    """The summary's cells as a table: one row per cutoff x family with the goal quantities."""
    s = summary if summary is not None else track_record_summary()
    rows = [{k: v for k, v in c.items() if k != "methods"} for c in s.get(key, [])]
    return pd.DataFrame(rows)


def method_table(summary: dict[str, Any] | None = None) -> pd.DataFrame:
    """Per-method metrics of every cell: one row per cutoff x family x method."""
    s = summary if summary is not None else track_record_summary()
    rows = []
    for c in s.get("cells", []):
        for meth, v in c.get("methods", {}).items():
            rows.append({"cutoff": c["cutoff"], "family": c["family"], "method": meth, **v})
    return pd.DataFrame(rows)


def plot_reliability(summary: dict[str, Any] | None = None, *, as_image: bool = True) -> Any:
    """Reliability diagram of P(better than last year) for the default methods at T1 and T2.

    Returns a PNG image object that notebooks show under any matplotlib backend (``as_image``),
    or the matplotlib figure.
    """
    import matplotlib

    if as_image:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import seaborn as sns

    s = summary if summary is not None else track_record_summary()
    families = (
        ("monthly", "Månadsserier"),
        ("quarterly", "Kvartalsserier"),
        ("annual", "Årsvärden (Kolada)"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), sharey=True)
    for ax, (fam, title) in zip(axes, families, strict=True):
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfekt kalibrering")
        for cutoff, marker in (("T1", "o"), ("T2", "s")):
            t = pd.DataFrame(s.get("reliability", {}).get(f"{cutoff}|{fam}", []))
            if t.empty:
                continue
            sns.lineplot(
                data=t,
                x="p_mean",
                y="observed",
                marker=marker,
                ax=ax,
                label=f"{cutoff} ({int(t['n'].sum())} prognoser)",
            )
        ax.set_xlabel("Prognostiserad sannolikhet")
        ax.set_ylabel("Observerad andel")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("Tillförlitlighet: P(bättre än föregående år) mot utfall")
    fig.tight_layout()
    if not as_image:
        return fig
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return Image(data=buf.getvalue(), format="png")


def run_and_summarise(
    raw_root: Path, sources_file: Path | None = None, *, progress: bool = False
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, float]]:
    """The whole backtest: forecasts at every origin, scoring, the default choice and the summary.

    Returns:
        ``(summary, scored, ses_alphas)``: the JSON-ready summary (see :func:`summarise`), one row per
        scored forecast, and the SES weight chosen per KPI over all years (for the calibration file).
    """
    t0 = time.perf_counter()
    records = run_backtest(raw_root, sources_file, progress=progress)
    alphas = _choose_ses_alpha(records, 10_000)
    phis = _choose_trend_phi(records, 10_000)
    scored = score_backtest(records)
    scored.attrs["trend_phi_by_indicator"] = (
        phis  # write_calibration stores it beside the SES weights
    )
    defaults = choose_defaults(scored)
    summary = summarise(scored, defaults, time.perf_counter() - t0)
    summary["ses_alpha_by_indicator"] = alphas
    summary["trend_phi_by_indicator"] = phis
    summary["selected_methods"] = select_methods(scored)
    summary["selection_note"] = (
        "Sub-annual default 'selected': for each evaluation year, the method with the lowest MASE on earlier years only "
        f"(shock years left out) per family, cutoff and aggregation; pooled over sub-annual series that know part of the year "
        f"when a cell has < {MIN_SELECT} earlier forecasts per method; '{SELECT_FALLBACK}' when both have too few. "
        "selected_methods is the choice on all years, used by the report's forecasts."
    )
    return summary, scored, alphas


def write_summary(summary: dict[str, Any], path: Path = TRACK_RECORD_FILE) -> Path:
    """Write the track-record summary the report cites (aggregate figures only, no data values)."""
    path.write_text(
        json.dumps(summary, indent=1, ensure_ascii=False, default=_json_default) + "\n",
        encoding="utf-8",
    )
    return path


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(type(o))


def format_table(summary: dict[str, Any]) -> str:
    """A readable table of the goal quantities per cutoff and family (the CLI's default output)."""
    cols = [
        ("n", "n", "{:d}"), ("mase_vs_naive_annual", "MASE/naive", "{:.2f}"), ("mase_vs_ytd_snaive", "MASE/snaive", "{:.2f}"),
        ("win_rate_vs_ytd_snaive", "win%", "{:.0%}"), ("coverage80", "cov80", "{:.0%}"), ("coverage95", "cov95", "{:.0%}"),
        ("brier_skill", "BSS", "{:.2f}"),
    ]  # fmt: skip
    lines = []
    for key, title in (("cells", "Backtest (2020 excluded)"), ("shock_2020", "Shock year 2020")):
        lines.append(title)
        head = f"{'cutoff':<7}{'family':<11}{'default':<14}" + "".join(f"{c[1]:>12}" for c in cols)
        lines.append(head)
        for c in summary.get(key, []):
            vals = "".join(
                f"{(c[k] if isinstance(c.get(k), int) else fmt.format(c[k])) if c.get(k) is not None else '-':>12}"
                for k, _, fmt in cols
            )
            lines.append(
                f"{c['cutoff']:<7}{c['family']:<11}{c['default']:<14}{vals}{'' if c.get('judged', True) else '  (n<100: not judged)'}"
            )
        lines.append("")
    lines.append(f"defaults: {summary.get('defaults')}   runtime: {summary.get('runtime_s')} s")
    return "\n".join(lines)


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


def goal_table(summary: dict[str, Any] | None = None) -> pd.DataFrame:
    """The design's goals next to the measured figures: one row per quantity and cutoff, with met yes/no.

    Sub-annual MASE goals are judged on monthly and quarterly cells; cells with n < 100 are not judged.
    """
    s = summary if summary is not None else track_record_summary()
    goals: list[tuple[str, tuple[str, ...], dict[str, tuple[float | None, float | None]]]] = [
        (
            "mase_vs_naive_annual",
            ("monthly", "quarterly"),
            {"T1": (None, 0.80), "T2": (None, 0.60)},
        ),
        ("mase_vs_ytd_snaive", ("monthly", "quarterly"), {"T1": (None, 0.92), "T2": (None, 0.85)}),
        (
            "win_rate_vs_ytd_snaive",
            ("monthly", "quarterly"),
            {"T1": (0.55, None), "T2": (0.55, None)},
        ),
        (
            "coverage80",
            ("monthly", "quarterly", "annual"),
            {"T1": (0.75, 0.85), "T2": (0.75, 0.85)},
        ),
        (
            "coverage95",
            ("monthly", "quarterly", "annual"),
            {"T1": (0.91, 0.98), "T2": (0.91, 0.98)},
        ),
        (
            "brier_skill",
            ("monthly", "quarterly", "annual"),
            {"T1": (0.20, None), "T2": (0.35, None)},
        ),
        ("mase_vs_naive_annual", ("annual",), {"T1": (None, 1.00), "T2": (None, 1.00)}),
    ]
    rows = []
    cells = {(c["cutoff"], c["family"]): c for c in s.get("cells", [])}
    for qty, fams, limits in goals:
        for cutoff, (lo, hi) in limits.items():
            for fam in fams:
                c = cells.get((cutoff, fam))
                if c is None:
                    continue
                v = c.get(qty)
                met = (
                    None
                    if v is None or not c.get("judged")
                    else bool((lo is None or v >= lo) and (hi is None or v <= hi))
                )
                goal = (
                    f">= {lo:g}" if hi is None else f"<= {hi:g}" if lo is None else f"{lo:g}-{hi:g}"
                )
                rows.append(
                    {
                        "quantity": qty,
                        "cutoff": cutoff,
                        "family": fam,
                        "n": c.get("n"),
                        "default": c.get("default"),
                        "goal": goal,
                        "value": v,
                        "met": met,
                    }
                )
    return pd.DataFrame(rows)


_METHOD_SV = {
    "ytd_snaive": "utfall hittills i år plus förra årets värden för resten av året",
    "naive_annual": "förra årets värde",
    "ses_pooled": "för varje nyckeltal det som träffat bäst tidigare år av förra årets värde, ett utjämnat medel av de senaste åren (samma vikt för alla kommuner) eller förra årets värde plus en del av den senaste förändringen",
    "ytd_ratio": "utfall hittills i år delat med den andel av året som de månaderna brukar stå för",
    "credibility": "en vägning av takten hittills i år och förra årets nivå",
    "ets_remainder": "en säsongsmodell (ETS) för resten av året",
    "cred_ets": "medelvärdet av en vägning av takten hittills och en säsongsmodell",
    "cred_level": "en vägning av takten hittills i år och en utjämnad nivå för de senaste åren",
    "cred_level_ets": "medelvärdet av en vägning av takten hittills mot de senaste årens nivå och en säsongsmodell",
    "yoy_carry": "förra årets värden för resten av året, justerade med den senaste förändringen mot förra året",
    "selected": "den metod som träffat bäst tidigare år",
}
_FAMILY_SV = {"monthly": "månadsserier", "quarterly": "kvartalsserier", "annual": "årsvärden"}
_CUTOFF_SV = {"T1": "30 april", "T2": "31 augusti"}
_AGG_SV = {"sum": "summor över året", "mean": "årsmedelvärden"}


def _relative_sv(ratio: float) -> str:
    """'29 % mindre' / '3 % större' / 'lika stora' for a ratio of mean errors."""
    pct = round(100 * (1 - ratio))
    if pct > 0:
        return f"{pct} % mindre"
    if pct < 0:
        return f"{-pct} % större"
    return "lika stora"


def track_record_text_sv(summary: dict[str, Any] | None = None) -> list[str]:
    """Swedish sentences for the report's method section, from the committed track record.

    One sentence on the defaults, then one per cutoff with the interval coverage and how much
    better than last year's value the forecasts were. Empty list without a committed summary.
    """
    s = summary if summary is not None else track_record_summary()
    if not s:
        return []
    d = s.get("defaults", {})
    sel = s.get("selected_methods", {})
    out: list[str] = []
    if sel and "selected" in (d.get("monthly"), d.get("quarterly")):
        out.append(
            "Prognosmetoder: för månads- och kvartalsserier väljs metoden för varje tidpunkt och typ av serie efter hur "
            "metoderna har träffat tidigare år. Vid prövningen nedan valdes metoden för varje år bara utifrån åren "
            "före, så siffrorna visar hur valet fungerar på år det inte kunnat anpassas till. Där det finns för få "
            f"tidigare prognoser används det enklaste: {_METHOD_SV['ytd_snaive']}."
        )
        used: dict[str, list[str]] = {}
        for fam in ("monthly", "quarterly"):
            for agg in ("sum", "mean"):
                for cutoff in ("T1", "T2"):
                    meth = sel.get(f"{fam}|{cutoff}|{agg}")
                    differs = sel.get(f"{fam}|T1|{agg}") != sel.get(f"{fam}|T2|{agg}")
                    kind = f"{_FAMILY_SV[fam]} ({_AGG_SV[agg]}{', per ' + _CUTOFF_SV[cutoff] if differs else ''})"
                    if meth and kind not in used.setdefault(meth, []):
                        used[meth].append(kind)
        if used:
            out.append(
                "Just nu används för "
                + "; för ".join(
                    f"{' och '.join(v)}: {_METHOD_SV.get(k, k)}" for k, v in used.items()
                )
                + "."
            )
        out.append(
            f"Årsvärden: {_METHOD_SV.get(d.get('annual', ''), d.get('annual', ''))}. Intervallen och sannolikheten att målet nås bygger på hur stora felen varit tidigare år."
        )
    else:
        out.append(
            "Prognosmetoder (valda efter en efterhandsprövning på verkliga data): "
            + "; ".join(
                f"{_FAMILY_SV[f]}: {_METHOD_SV.get(d.get(f, ''), d.get(f, ''))}"
                for f in ("monthly", "quarterly", "annual")
            )
            + ". Intervallen och sannolikheten att målet nås bygger på hur stora felen varit tidigare år."
        )
    for cutoff in ("T1", "T2"):
        parts = []
        for c in s.get("cells", []):
            if c["cutoff"] != cutoff or not c.get("n"):
                continue
            cov80 = c.get("coverage80")
            ratio = c.get("mase_vs_naive_annual")
            n_sv = f"{c['n']:,}".replace(",", "\u00a0")
            txt = f"{_FAMILY_SV[c['family']]} ({n_sv} prognoser)"
            if cov80 is not None:
                txt += f": 80 %-intervallet innehöll utfallet i {round(100 * cov80)} % av fallen"
            if ratio is not None:
                txt += ", felen var " + _relative_sv(ratio) + " än med bara förra årets värde"
                r2 = c.get("mase_vs_ytd_snaive")
                if r2 is not None and c["family"] != "annual":
                    txt += (
                        " och "
                        + _relative_sv(r2)
                        + " än med utfallet hittills plus förra årets värden för resten av året"
                    )
            parts.append(txt)
        if parts:
            out.append(
                f"Prövat per {_CUTOFF_SV[cutoff]} (2020 undantaget): " + "; ".join(parts) + "."
            )
    if any(
        c["cutoff"] == "T1" and c["family"] == "quarterly" and c.get("n")
        for c in s.get("cells", [])
    ):
        out.append(
            "Per 30 april är inget kvartal av året publicerat ännu för kvartalsserierna, så prognosen bygger då bara på "
            "tidigare år och kan inte bli mycket bättre än förra årets värde. Om ett värde blir bättre eller sämre än "
            "förra året går sällan att förutse för årsvärden."
        )
    return out
