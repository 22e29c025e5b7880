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

from . import methods as m
from .paths import PACKAGE_DATA_DIR

__all__ = [
    "CALIBRATION_FILE",
    "MIN_POOLED",
    "QUANTILE_GRID",
    "CalibrationKey",
    "size_band",
    "scaled_errors",
    "combine_small",
    "method_context",
    "default_methods",
    "load_calibration",
    "quantiles_of",
]

CALIBRATION_FILE = PACKAGE_DATA_DIR / "calibration.json"
#: Fewer pooled errors than this: widen conservatively and flag the forecast.
MIN_POOLED = 30
#: Probabilities at which error quantiles are stored.
QUANTILE_GRID = np.round(np.linspace(0.0, 1.0, 201), 4)
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


def scaled_errors(key: CalibrationKey, path: Path | None = None) -> tuple[np.ndarray | None, str, int]:
    """The pooled scaled errors for ``key`` (as its stored quantiles), their source id and count.

    Falls back from the size band to all bands of the same family, cutoff and method.
    """
    pools = load_calibration(path).get("pools") or {}
    for k in (key.id(), CalibrationKey(key.family, key.cutoff, key.method, "any").id()):
        cell = pools.get(k)
        if cell and cell.get("n", 0) > 0:
            q = np.asarray(cell["q"], dtype="float64")
            return _conformal(q, int(cell["n"])), k, int(cell["n"])
    return None, "", 0


def _conformal(q: np.ndarray, n: int) -> np.ndarray:
    """Split-conformal finite-sample widening: stretch the tails by the (n+1)/n quantile correction."""
    if n <= 0:
        return q
    med = float(np.interp(0.5, QUANTILE_GRID, q))
    factor = 1.0 + 1.0 / n
    return med + (q - med) * factor


@functools.lru_cache(maxsize=1)
def _t_reference() -> np.ndarray:
    """A conservative reference error shape in scaled units: Student t with 3 df, scale 1.25."""
    from scipy import stats  # lazy

    probs = np.clip(QUANTILE_GRID, 0.0025, 0.9975)
    return stats.t.ppf(probs, df=3) * 1.25


def combine_small(own: np.ndarray, pooled: np.ndarray) -> tuple[np.ndarray, str, int]:
    """Too few pooled errors: merge what exists with a wide reference and widen by sqrt((n+1)/n)·1.25.

    With fewer than 5 errors the reference shape alone decides (conservative).
    """
    errs = np.concatenate([own[np.isfinite(own)], pooled[np.isfinite(pooled)]]) if pooled.size else own[np.isfinite(own)]
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


def method_context(frequency: str, aggregation: str, is_count: bool, seasonal_share: np.ndarray | None = None, path: Path | None = None) -> m.MethodContext:
    """Method parameters: pooled values the backtest chose, or safe defaults."""
    params = (load_calibration(path).get("params") or {}).get(frequency, {})
    ets = params.get("ets_params", [0.3, 0.1])
    return m.MethodContext(
        aggregation=aggregation,
        is_count=is_count,
        seasonal_share=seasonal_share,
        damping=float(params.get("damping", 0.5)),
        ses_alpha=float(params.get("ses_alpha", 0.5)),
        ets_params=(float(ets[0]), float(ets[1])),
    )
