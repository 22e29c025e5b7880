"""Calibration: split-conformal error pools from the package's own backtest, and the chosen defaults.

``ks_analysis/data/calibration.json`` is written by ``ks-analysis backtest --write-calibration``
from the real series. It holds, per (family, cutoff, method, size band), quantiles of the scaled
forecast errors ``(actual - forecast) / scale`` (``scale`` = the series' mean absolute
year-on-year change), the number of errors behind them, and the default method per family that
the backtest supports. It holds error statistics only, no data values.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ks_analysis.forecast import methods as m
from ks_analysis.paths import PACKAGE_DATA_DIR

__all__ = [
    "CALIBRATION_FILE",
    "MIN_POOLED",
    "QUANTILE_GRID",
    "CalibrationKey",
    "size_band",
    "population_band",
    "pool_bands",
    "scaled_errors",
    "combine_small",
    "method_context",
    "default_methods",
    "default_by_cell",
    "load_calibration",
    "quantiles_of",
    "SCALE_FLOOR_SHARE",
    "scale_floor",
    "series_scale",
    "own_scaled_errors",
]

CALIBRATION_FILE = PACKAGE_DATA_DIR / "calibration.json"
#: Fewer pooled errors than this: widen conservatively and flag the forecast.
MIN_POOLED = 30
#: Probabilities at which error quantiles are stored: fine in the tails, where intervals are read.
QUANTILE_GRID = np.round(
    np.r_[
        0.0,
        0.005,
        0.01,
        0.015,
        0.02,
        0.025,
        0.03,
        0.04,
        np.arange(0.05, 0.951, 0.025),
        0.96,
        0.97,
        0.975,
        0.98,
        0.985,
        0.99,
        0.995,
        1.0,
    ],
    4,
)
#: An annual KPI's scale is floored at this share of the median scale of the KPI (same kommun
#: size band) at the same origin, in the backtest and when a forecast applies the pooled errors.
SCALE_FLOOR_SHARE = 0.2
#: Defaults when no calibration file exists: the honest simple baselines.
FALLBACK_DEFAULTS = {"monthly": "ytd_snaive", "quarterly": "ytd_snaive", "annual": "naive_annual"}


@dataclass(frozen=True)
class CalibrationKey:
    """Which pool of errors calibrates a forecast."""

    family: str  # monthly / quarterly / annual
    cutoff: str  # T1 / T2 / Y
    method: str
    band: str  # size band of the series

    def id(self) -> str:
        return f"{self.family}|{self.cutoff}|{self.method}|{self.band}"


def size_band(years: np.ndarray, aggregation: str, is_count: bool) -> str:
    """Size band of a series, so errors pool over kommuner of similar size.

    For counts the yearly level is the size (a kommun of Vaggeryd's size has small counts):
    'small' < 100 a year, 'medium' < 1000, 'large' otherwise; for rates and shares 'all'.
    """
    if not is_count:
        return "all"
    y = years[np.isfinite(years)] if years.size else years
    if y.size == 0:
        return "small"
    level = float(np.mean(y[-3:]))
    if aggregation == "mean":
        level *= 12  # a yearly mean of monthly counts: the size of the year's flow
    if level < 100:
        return "small"
    if level < 1000:
        return "medium"
    return "large"


def population_band(population: float | None) -> str:
    """Kommun size band by inhabitants (Vaggeryd, about 14 000, is 's'); 'region' for län/riket."""
    if population is None or not np.isfinite(population):
        return "unknown"
    if population < 8_000:
        return "xs"
    if population < 16_000:
        return "s"
    if population < 30_000:
        return "m"
    if population < 80_000:
        return "l"
    return "xl"


def pool_bands(
    family: str,
    *,
    aggregation: str,
    is_count: bool,
    years: np.ndarray,
    indicator: str = "",
    pop_band: str = "unknown",
    horizon: int = 1,
) -> list[str]:
    """Error pools for a series, from the most specific to the broadest; the first with enough errors is used.

    Annual KPIs pool per KPI over kommuner of similar size and the same horizon (a lagged KPI is
    forecast two years ahead), then per KPI; sub-annual series pool by yearly aggregation (a mean
    of a level behaves unlike a sum of a flow), size and kommun size, then more broadly. Pools never
    mix KPIs or aggregations: a series without a pool of its own gets the wide reference shape.
    """
    if family == "annual":
        return [f"{indicator}|{pop_band}|h{horizon}", f"{indicator}|h{horizon}", indicator]
    size = size_band(years, aggregation, is_count)
    return [f"{aggregation}|{size}|{pop_band}", f"{aggregation}|{size}", aggregation]


def quantiles_of(errors: np.ndarray) -> list[float]:
    """Stored form of an error pool: its quantiles at :data:`QUANTILE_GRID`."""
    return [float(x) for x in np.quantile(errors, QUANTILE_GRID)]


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        return {}
    return dict(json.loads(p.read_text(encoding="utf-8")))


def load_calibration(path: Path | None = None) -> dict[str, Any]:
    """The calibration file's content ({} when there is none)."""
    return _load(str(path or CALIBRATION_FILE))


def default_methods(path: Path | None = None) -> dict[str, str]:
    """Default method per family, as the backtest chose it."""
    d = load_calibration(path).get("defaults") or {}
    return {**FALLBACK_DEFAULTS, **d}


def default_by_cell(path: Path | None = None) -> dict[str, str]:
    """Sub-annual default per 'family|cutoff|aggregation' (e.g. 'quarterly|T2|sum'), as the backtest's
    rolling-origin selection chose it; {} without a calibration file."""
    return dict(load_calibration(path).get("default_by_cell") or {})


def scaled_errors(
    key: CalibrationKey, path: Path | None = None, bands: list[str] | None = None
) -> tuple[np.ndarray | None, str, int]:
    """The pooled scaled errors for ``key`` (as its stored quantiles), their pool id and count.

    Tries ``bands`` (most specific first, default ``[key.band, 'any']``) and takes the first pool
    with at least :data:`MIN_POOLED` errors; if none has that many, the largest smaller one.
    """
    pools = load_calibration(path).get("pools") or {}
    best: tuple[np.ndarray | None, str, int] = (None, "", 0)
    for band in bands or [key.band]:
        k = CalibrationKey(key.family, key.cutoff, key.method, band).id()
        cell = pools.get(k)
        if not cell or cell.get("n", 0) <= 0:
            continue
        n = int(cell["n"])
        q = _conformal(np.asarray(cell["q"], dtype="float64"), n)
        if n >= MIN_POOLED:
            return q, k, n
        if n > best[2]:
            best = (q, k, n)
    return best


def _conformal(q: np.ndarray, n: int) -> np.ndarray:
    """Split-conformal finite-sample widening: stretch the tails by the (n+1)/n quantile correction."""
    if n <= 0:
        return q
    med = float(np.interp(0.5, QUANTILE_GRID, q))
    factor = 1.0 + 1.0 / n
    return med + (q - med) * factor


@functools.lru_cache(maxsize=1)
def _t_reference() -> np.ndarray:
    """A conservative reference error shape in scaled units: Student t with 3 df, scale 2."""
    # scipy.special's inverse t CDF gives the same numbers as scipy.stats.t.ppf, and importing it
    # costs a third of scipy.stats' import (every report kernel pays it).
    from scipy.special import stdtrit

    probs = np.clip(QUANTILE_GRID, 0.0025, 0.9975)
    return np.asarray(stdtrit(3, probs), dtype="float64") * 2.0


def combine_small(own: np.ndarray, pooled: np.ndarray) -> tuple[np.ndarray, str, int]:
    """Too few pooled errors: merge what exists with a wide reference and widen by sqrt((n+1)/n)·1.25.

    With fewer than 5 errors the reference shape alone decides (conservative).
    """
    errs = (
        np.concatenate([own[np.isfinite(own)], pooled[np.isfinite(pooled)]])
        if pooled.size
        else own[np.isfinite(own)]
    )
    n = int(errs.size)
    ref = _t_reference()
    if n < 5:
        return ref, "reference_t3", n
    spread = np.quantile(errs, QUANTILE_GRID) - np.median(errs)
    widened = np.median(errs) + spread * np.sqrt((n + 1) / n) * 1.25
    # never narrower than half the reference shape
    lo = np.minimum(widened, 0.5 * ref)
    hi = np.maximum(widened, 0.5 * ref)
    merged = np.where(QUANTILE_GRID < 0.5, lo, hi)
    return np.sort(merged), "own_errors_widened", n


def method_context(
    frequency: str,
    aggregation: str,
    is_count: bool,
    seasonal_share: np.ndarray | None = None,
    indicator: str = "",
    path: Path | None = None,
) -> m.MethodContext:
    """Method parameters: pooled values the backtest chose (per frequency; SES weight per KPI), or defaults."""
    allp = load_calibration(path).get("params") or {}
    params = dict(allp.get(frequency, {}))
    alpha = (allp.get("ses_alpha_by_indicator") or {}).get(indicator)
    if alpha is not None:
        params["ses_alpha"] = alpha
    phi = (allp.get("trend_phi_by_indicator") or {}).get(indicator)
    ets = params.get("ets_params", [0.2, 0.1])
    return m.MethodContext(
        aggregation=aggregation,
        is_count=is_count,
        seasonal_share=seasonal_share,
        damping=float(params.get("damping", 0.5)),
        ses_alpha=float(
            params.get("ses_alpha", 1.0)
        ),  # without a backtested weight: the naive value
        ets_params=(float(ets[0]), float(ets[1])),
        extra={"trend_phi": float(phi)} if phi else {},
    )


def scale_floor(indicator: str, pop_band: str = "unknown", path: Path | None = None) -> float:
    """The scale floor of an annual KPI for a kommun size band (0.0 without a calibration entry)."""
    floors = (load_calibration(path).get("params") or {}).get("scale_floor_by_band") or {}
    v = floors.get(f"{indicator}|{pop_band}", floors.get(indicator))
    return float(v) if v is not None and np.isfinite(v) else 0.0


def series_scale(years: np.ndarray, point: float, is_count: bool) -> float:
    """MASE scale (mean absolute year-on-year change); for a constant or one-year history 10 % of
    the level, and at least one unit for counts."""
    s = m.mase_scale(years)
    if s is not None:
        return s
    y = years[np.isfinite(years)]
    level = abs(float(y[-1])) if y.size else abs(point)
    return float(max(0.10 * level, 1.0 if is_count else 1e-6))


def own_scaled_errors(
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
