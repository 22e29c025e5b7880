"""Vintages: every published version of the backtest series, and the series as panels of arrays.

Cleans the raw rows once per vintage boundary, so an origin can take the newest value published
by its date (:meth:`Panel.at`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.backtest.design import BACKTEST_SERIES, SeriesRule, rule_for
from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast import methods as m

__all__ = ["load_vintages", "publication_lags", "Panel", "panels"]


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
    from ks_analysis.clean.rules import prepare_indicators
    from ks_analysis.ingest.memo import read_sources_once

    raw, specs, _ = read_sources_once(raw_root, sources_file, progress=progress)
    ids = pd.Series(pd.unique(raw["indicator"].astype("str")))
    keep = {i for i in ids if rule_for(i, rules) is not None}
    raw = raw[raw["indicator"].astype("str").isin(keep)]
    boundaries = sorted({s.fixed_date for s in specs.values() if s.revisions and s.fixed_date})
    # The vintage-independent rules once, then each vintage's own (as clean_indicators would).
    prepared = prepare_indicators(raw, specs)
    latest = prepared.clean().tidy
    frames = [latest]
    for b in boundaries:
        frames.append(prepared.clean(b - dt.timedelta(days=1)).tidy)
    vint = pd.concat(frames, ignore_index=True).drop_duplicates(
        subset=["municipality", "indicator", "gender", "period", "value", "published"]
    )
    vint.attrs["publication_lags"] = publication_lags(raw, specs, rules)
    return vint, latest


def publication_lags(
    raw: pd.DataFrame, specs: dict[str, Any], rules: tuple[SeriesRule, ...]
) -> list[dict[str, Any]]:
    """The publication-lag rule of every source the backtest reads, with the series groups it dates.

    One dict per source: ``source`` (the manifest entry's name), ``groups``, ``days`` (per
    group where the rule has ``per_indicator``) or ``date``, and ``cited``: the rule's ``source``
    field (the agency's release calendar or release the lag was checked against), None when the
    manifest names none.
    """
    out: list[dict[str, Any]] = []
    if "spec" not in raw:
        return out
    pairs = raw[["spec", "indicator"]].astype("str").drop_duplicates()
    for name, part in pairs.groupby("spec"):
        spec = specs.get(str(name))
        if spec is None:
            continue
        lag = dict(spec.publication_lag)
        by_group: dict[str, Any] = {}
        for ind in sorted(part["indicator"]):
            r = rule_for(ind, rules)
            if r is not None:
                by_group.setdefault(r.group, spec.lag_days(ind))
        if not by_group:
            continue
        date = lag.get("date")
        out.append(
            {
                "source": str(name),
                "groups": sorted(by_group),
                "days": None if date else by_group,
                "date": date.isoformat() if isinstance(date, dt.date) else date,
                "cited": lag.get("source"),
            }
        )
    return out


@dataclass
class Panel:
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


def panels(
    vint: pd.DataFrame, latest: pd.DataFrame, rules: tuple[SeriesRule, ...]
) -> dict[str, Panel]:
    """Split the selected series by frequency into panels."""
    out: dict[str, Panel] = {}
    bands = _pop_bands(latest)
    vint = vint.copy()
    # Without the publication-lag list: pandas deep-copies ``attrs`` into every derived frame.
    vint.attrs = {}
    ids = pd.unique(vint["indicator"])
    rule_of = {i: rule_for(i, rules) for i in ids}
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
        # Whole non-negative numbers in every row of the series (np.allclose's tolerances, row
        # by row, then all rows of a series).
        value = part["value"].to_numpy(dtype="float64")
        whole = (value >= 0) & np.isclose(value, np.round(value))
        vals = pd.Series(whole, index=part.index).groupby(part["sid"]).all()
        meta["is_count"] = [
            (str(units.get(s, "")).lower() == "antal") and bool(vals.get(s, False))
            for s in meta["sid"]
        ]
        rows = part[["sid", "yi", "sub", "value", "published"]].reset_index(drop=True)
        # without the vintages' attrs (the publication-lag list): pandas deep-copies attrs into
        # every frame derived from these, thousands of times per backtest
        rows.attrs, meta.attrs = {}, {}
        out[str(freq)] = Panel(
            meta=meta,
            rows=rows,
            latest=arr,
            y0=y0,
            P=P,
        )
    return out
