"""Calibration: split-conformal error pools from the package's own backtest, and the chosen defaults.

``ks_analysis/data/calibration.json`` is written by ``ks-analysis backtest --write-calibration``
from the real series. It holds, per (family, cutoff, method, size band), quantiles of the scaled
forecast errors ``(actual - forecast) / scale`` (``scale`` = the series' mean absolute
year-on-year change) divided by each series' own error ratio (see :func:`credibility_ratio`), the
number of errors behind them, the credibility parameters of the pool, and the default method per
family that the backtest supports. It holds error statistics only, no data values.

No future in the past: the file's top level is fitted on every backtest year (for reports after
the last one); ``by_origin`` holds, per origin year Y, what was fitted on forecast years before Y
only (annual KPIs: before Y - 1, as their outcomes are published a year late). Every lookup here
takes ``origin_year`` (:func:`origin_year`: the earlier of the report cutoff's and ``--as-of``'s
year), so a report of 2019 uses no error, method choice or weight of 2019 or later.
"""

from __future__ import annotations

import datetime as dt
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
    "MIN_POOL_YEARS",
    "QUANTILE_GRID",
    "CalibrationKey",
    "size_band",
    "population_band",
    "pool_bands",
    "STEADY_SHARE",
    "steadiness",
    "trend_label",
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
    "OWN_YEARS",
    "LAMBDA_RANGE",
    "Credibility",
    "credibility_fit",
    "credibility_ratio",
    "pool_credibility",
    "own_abs_errors",
    "origin_year",
    "calibration_for",
    "skill_for",
    "has_no_skill",
    "POINT_SKILL_MAX",
]

CALIBRATION_FILE = PACKAGE_DATA_DIR / "calibration.json"
#: Fewer pooled errors than this: widen conservatively and flag the forecast.
MIN_POOLED = 30
#: A pool is used only when its errors come from at least this many forecast years: the errors
#: of one year share its shock, so 290 kommuner of one year are one year's evidence and say
#: nothing of how the next year's shock differs. Two years are the fewest from which the year
#: part can be estimated at all (:func:`_conformal` widens it by Student's t with k − 1 degrees
#: of freedom for how little that is). A series without such a pool takes the next, broader one.
MIN_POOL_YEARS = 2
#: An error pool holds the errors of at most this many latest calibration years: a pool over
#: every year since 1978 is calibrated on average, not for the years that resemble the next one.
POOL_YEARS = 12
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


#: An annual series' recent changes form a steady trend when their sum is at least this share of
#: the sum of their sizes (:func:`steadiness`): mostly one direction, as a growing kommun's population.
STEADY_SHARE = 0.8
#: Fewer known year-on-year changes than this: no steadiness, the series pools by size band alone.
STEADY_MIN_CHANGES = 3


def steadiness(values: np.ndarray, recent: int = 6) -> np.ndarray:
    """Per row of yearly ``values`` (1-D: one series): |Σ Δ| / Σ |Δ| over its last ``recent`` known
    year-on-year changes (the changes its scale is the mean size of, :func:`~ks_analysis.forecast.methods.mase_scale`).

    1 for changes that all go one way (a trend), near 0 for changes that cancel (noise around a
    level). Scaled errors of steady and of varied series differ in spread: the scale of a steady
    series is mostly its trend, which the forecast carries. NaN with fewer than
    :data:`STEADY_MIN_CHANGES` changes or none non-zero.
    """
    a = np.atleast_2d(np.asarray(values, dtype="float64"))
    d = np.diff(a, axis=1)
    fin = np.isfinite(d)
    after = np.cumsum(fin[:, ::-1], axis=1)[:, ::-1]
    take = fin & (after <= recent)
    cnt = take.sum(axis=1)
    net = np.abs(np.where(take, d, 0.0).sum(axis=1))
    size = np.where(take, np.abs(d), 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((cnt >= STEADY_MIN_CHANGES) & (size > 0), net / size, np.nan)


def trend_label(t: float) -> str | None:
    """The pool label of a steadiness :func:`steadiness` value: 'steady', 'varied' or None (unknown)."""
    if not np.isfinite(t):
        return None
    return "steady" if t >= STEADY_SHARE else "varied"


def pool_bands(
    family: str,
    *,
    aggregation: str,
    is_count: bool,
    years: np.ndarray,
    indicator: str = "",
    pop_band: str = "unknown",
    horizon: int = 1,
    trend: str | None = None,
) -> list[str]:
    """Error pools for a series, from the most specific to the broadest; the first with enough errors is used.

    Annual KPIs pool per KPI over kommuner of similar size, the same horizon (a lagged KPI is
    forecast two years ahead) and, where ``trend`` is known (:func:`trend_label`), the same kind
    of recent changes (steady trend or varied), then without the kind, then per KPI; sub-annual
    series pool by yearly aggregation (a mean of a level behaves unlike a sum of a flow), size and
    kommun size, then more broadly. Pools never mix KPIs or aggregations: a series without a pool
    of its own gets the wide reference shape.
    """
    if family == "annual":
        base = [f"{indicator}|{pop_band}|h{horizon}", f"{indicator}|h{horizon}", indicator]
        return [f"{base[0]}|{trend}", *base] if trend else base
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


def origin_year(cutoff: dt.date, as_of: dt.date | None = None) -> int:
    """The origin year a forecast at ``cutoff`` (known data cut at ``as_of``) may be calibrated for:
    the earlier of the two years. Calibration of origin year Y uses forecast years before Y only."""
    return min(cutoff, as_of).year if as_of is not None else cutoff.year


def load_calibration(path: Path | None = None, origin_year: int | None = None) -> dict[str, Any]:
    """The calibration a forecast of ``origin_year`` may use ({} when there is none).

    ``origin_year=None``: the file's top level, fitted on every backtest year. Otherwise the
    file's ``by_origin[Y]`` entry (fitted on forecast years before Y); an origin after the last
    stored one takes the top level (every backtest year is before it); one before the first stored
    origin gets {} (nothing was known: default methods, wide reference errors, flagged). A file
    without ``by_origin`` (hand-written, e.g. in tests) applies to every origin.
    """
    content = _load(str(path or CALIBRATION_FILE))
    by_origin = content.get("by_origin")
    if origin_year is None or not by_origin:
        return content
    entry = by_origin.get(str(origin_year))
    if entry is not None:
        return {**{k: content[k] for k in ("quantile_grid",) if k in content}, **entry}
    stored = [int(y) for y in by_origin]
    return content if origin_year > max(stored) else {}


def calibration_for(cutoff: dt.date, as_of: dt.date | None = None) -> dict[str, Any]:
    """The calibration a report at ``cutoff`` with data cut at ``as_of`` may use (see :func:`load_calibration`)."""
    return load_calibration(origin_year=origin_year(cutoff, as_of))


def default_methods(path: Path | None = None, origin_year: int | None = None) -> dict[str, str]:
    """Default method per family, as the backtest chose it on years before ``origin_year``."""
    d = load_calibration(path, origin_year).get("defaults") or {}
    return {**FALLBACK_DEFAULTS, **d}


def default_by_cell(path: Path | None = None, origin_year: int | None = None) -> dict[str, str]:
    """Sub-annual default per 'family|cutoff|aggregation' (e.g. 'quarterly|T2|sum'), as the backtest's
    rolling-origin selection chose it on years before ``origin_year``; {} without a calibration."""
    return dict(load_calibration(path, origin_year).get("default_by_cell") or {})


def skill_for(
    calibration: dict[str, Any], kpi_or_family: str, cutoff_kind: str, family: str | None = None
) -> float | None:
    """Backtested Brier skill of P(better than last year) (= P(met) of an increase/decrease target)
    for a KPI or an indicator family at a cutoff kind, from ``calibration`` (one origin's entry,
    e.g. :func:`calibration_for` ``(cutoff, as_of)``, so the skill is that known before the report's year).

    Args:
        calibration: the calibration of the report's origin year.
        kpi_or_family: a backtest series group (the Kolada KPI id for annual KPIs, e.g. 'N03920';
            the group of ``backtest.design.BACKTEST_SERIES`` otherwise, e.g. 'AF_ARBETSLOSA') or a
            family ('monthly', 'quarterly', 'annual').
        cutoff_kind: 'T1' or 'T2' (or 'Y').
        family: tried when ``kpi_or_family`` has no entry of its own (e.g. the KPI's family).

    Returns:
        The skill 1 - Brier / Brier of the base rate, measured on the default method's backtest
        forecasts of years before the origin (2020 left out), of the most specific of
        ``kpi_or_family`` and ``family`` that has enough forecasts to judge (effective n >= 100,
        see the track record); ``None`` when neither has. A KPI's own entry often has too few
        (its forecasts of one year share one shock), so pass its family to fall back on; but a
        KPI whose own forecasts show no skill (<= 0), however few, gets that figure, since the
        family's skill does not carry over to it. A value <= 0 means the method has not shown skill there: the report should say the status is
        uncertain ("prognosmetoden har inte visat träffsäkerhet för denna typ av indikator vid
        denna tidpunkt") rather than print a confident-looking P.
    """
    cell = (calibration.get("skill") or {}).get(cutoff_kind) or {}
    own = cell.get(kpi_or_family)
    unjudged = own.get("brier_skill_unjudged") if isinstance(own, dict) else None
    if unjudged is not None and float(unjudged) <= 0:
        # A claim of skill needs the KPI's own record not to contradict it: its own forecasts
        # showing none is reason enough to say so, even when they are too few to claim skill.
        return float(unjudged)
    for key in (kpi_or_family, family):
        entry = cell.get(key) if key is not None else None
        v = entry.get("brier_skill") if isinstance(entry, dict) else entry
        if v is not None:
            return float(v)
    return None


#: A point forecast shows skill only where its backtested MASE is at most this share of the
#: naive benchmark's on the same forecasts (``mase_vs_naive`` of the skill entry): a 5 % margin,
#: since a KPI's ratio moves by about that much from one set of years to the next (the year-block
#: intervals of the annual KPIs' ratios are 0,03–0,10 wide; docs/backtest.md).
POINT_SKILL_MAX = 0.95


def has_no_skill(
    calibration: dict[str, Any], kpi_or_family: str, cutoff_kind: str, family: str | None = None
) -> bool:
    """Whether the backtest (the entry of the report's origin year) found no skill for this KPI or
    indicator family at this cutoff: its Brier skill of P(met) is <= 0 (:func:`skill_for`), or,
    for an annual KPI, its point forecasts were not at least 5 % better than last year's value
    (:data:`POINT_SKILL_MAX`; the KPI's own figure, however few its forecasts, else its family's).

    The point test is for annual KPIs only: their forecast at a tertial holds nothing of the year,
    and a KPI's own Brier skill rests on an effective n of 20–90, too few to trust alone. A
    sub-annual forecast starts from the year so far, which is data, and its P is judged by its
    Brier skill. Unknown skill (too few forecasts, no entry) is not taken as no skill."""
    skill = skill_for(calibration, kpi_or_family, cutoff_kind, family)
    if skill is not None and skill <= 0:
        return True
    if (family or kpi_or_family) != "annual":
        return False
    cell = (calibration.get("skill") or {}).get(cutoff_kind) or {}
    for key in (kpi_or_family, family):
        entry = cell.get(key) if key is not None else None
        ratio = entry.get("mase_vs_naive") if isinstance(entry, dict) else None
        if ratio is not None:
            return float(ratio) > POINT_SKILL_MAX
    return False


def scaled_errors(
    key: CalibrationKey,
    path: Path | None = None,
    bands: list[str] | None = None,
    origin_year: int | None = None,
) -> tuple[np.ndarray | None, str, int]:
    """The pooled scaled errors for ``key`` (as its stored quantiles), their pool id and count.

    Tries ``bands`` (most specific first, default ``[key.band, 'any']``) and takes the first pool
    with at least :data:`MIN_POOLED` errors; if none has that many, the largest smaller one.
    Pools written with credibility parameters hold errors divided by each series' own ratio
    (:func:`pool_credibility` says how to scale them back for a series).
    """
    pools = load_calibration(path, origin_year).get("pools") or {}
    best: tuple[np.ndarray | None, str, int] = (None, "", 0)
    for band in bands or [key.band]:
        k = CalibrationKey(key.family, key.cutoff, key.method, band).id()
        cell = pools.get(k)
        if not cell or cell.get("n", 0) <= 0:
            continue
        n = int(cell["n"])
        q = _conformal(
            np.asarray(cell["q"], dtype="float64"), n, cell.get("years"), cell.get("between")
        )
        if n >= MIN_POOLED:
            return q, k, n
        if n > best[2]:
            best = (q, k, n)
    return best


def _conformal(
    q: np.ndarray, n: int, years: int | None = None, between: float | None = None
) -> np.ndarray:
    """Finite-sample widening of pooled error quantiles ``q`` (of ``n`` errors) for a new year.

    Without ``years``: the split-conformal (n+1)/n stretch of the tails. With ``years`` (k, the
    number of distinct forecast years the errors come from) and ``between`` (ρ, the share of the
    errors' variance that is a common shock of the year, :func:`year_components`): the errors of
    one year are not exchangeable with each other's year, the year is the unit (Dunn, Wasserman &
    Ramdas (2022), "Distribution-free prediction sets for two-layer hierarchical models", JASA,
    arXiv:1809.07441: a new group's prediction set counts groups, not observations). The pool's quantiles
    hold k realised year shocks; a new year's shock is one more draw, known only through those
    k. Its part of the spread is therefore widened as the normal-theory prediction interval of
    one new observation from a sample of k widens the sample's own spread, by
    c(p) = t(p, k − 1) · sqrt(1 + 1/k) / z(p) (Student t with k − 1 degrees of freedom; e.g.
    Hahn & Meeker (1991), *Statistical Intervals*), and the within-year part as before:
    the quantile at p moves away from the median by sqrt((1 − ρ)(1 + 1/n)² + ρ c(p)²)
    (ρ = 0: the row-level stretch alone).
    """
    if n <= 0:
        return q
    med = float(np.interp(0.5, QUANTILE_GRID, q))
    if years is None or between is None or years < 2:
        return _finite_tails(med + (q - med) * (1.0 + 1.0 / n), n)
    rho = min(max(float(between), 0.0), 1.0)
    within = (1.0 + 1.0 / n) ** 2
    out = med + (q - med) * np.sqrt((1 - rho) * within + rho * _t_stretch(years) ** 2)
    return _finite_tails(out, n)


#: Beyond this distance of the probability from 1/2 (the 80 % interval's bounds),
#: :func:`_finite_tails` reads the quantiles at the split-conformal level.
TAIL_FROM = 0.4


def _finite_tails(q: np.ndarray, n: int) -> np.ndarray:
    """Quantiles ``q`` (on :data:`QUANTILE_GRID`, from ``n`` errors) read at the split-conformal
    level 1/2 + (p − 1/2)(n + 1)/n in the outer tails (|p − 1/2| > :data:`TAIL_FROM`).

    The (1 + 1/n) stretch of a quantile's distance from the median is the conformal correction
    where the quantile function is about straight; in the tails, where it steepens, the stretch
    falls short of the level's, and a 95 % interval from 60 errors (monthly pools) covered
    90 %. Inside the 80 % bounds the stretch is kept: the level there widened monthly T1's 80 %
    intervals in the last five years to 91 %, already 87 % (docs/backtest.md)."""
    g = QUANTILE_GRID
    level = np.clip(0.5 + (g - 0.5) * (n + 1.0) / n, 0.0, 1.0)
    return np.where(np.abs(g - 0.5) > TAIL_FROM + 1e-9, np.interp(level, g, q), q)


@functools.lru_cache(maxsize=64)
def _t_stretch(k: int) -> np.ndarray:
    """c(p) of :func:`_conformal` on :data:`QUANTILE_GRID` for k years (1 at the median's limit)."""
    from scipy.special import ndtri, stdtrit

    p = np.clip(np.abs(QUANTILE_GRID - 0.5) + 0.5, 0.5 + 1e-6, 0.9975)
    return np.asarray(stdtrit(k - 1, p) / ndtri(p) * np.sqrt(1.0 + 1.0 / k), dtype="float64")


def year_components(e: np.ndarray, year: np.ndarray) -> tuple[int, float]:
    """(k, ρ): the number of distinct years of errors ``e`` and the share of their variance that
    is common to a year (one-way ANOVA estimator of the between-year variance component,
    σ_b² = (MSB − MSW) / n₀, floored at 0; Searle, Casella & McCulloch (1992), *Variance
    Components*, ch. 3). The errors are winsorised at their 1 % and 99 % quantiles first, so
    that one merger or reclassification does not make a year. ρ is 0 with fewer than two years."""
    x = np.asarray(e, dtype="float64")
    ok = np.isfinite(x)
    x, year = x[ok], np.asarray(year)[ok]
    uniq, inv = np.unique(year, return_inverse=True)
    k, n = int(uniq.size), int(x.size)
    if k < 2 or n <= k:
        return k, 0.0
    lo, hi = np.quantile(x, [0.01, 0.99])
    x = np.clip(x, lo, hi)
    m = np.bincount(inv).astype("float64")
    means = np.bincount(inv, weights=x) / m
    msb = float((m * (means - x.mean()) ** 2).sum() / (k - 1))
    msw = float(((x - means[inv]) ** 2).sum() / (n - k))
    n0 = (n - float((m**2).sum()) / n) / (k - 1)
    sb2 = max((msb - msw) / n0, 0.0) if n0 > 0 else 0.0
    total = sb2 + msw
    return k, (sb2 / total if total > 0 else 0.0)


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
    origin_year: int | None = None,
) -> m.MethodContext:
    """Method parameters: pooled values the backtest chose on years before ``origin_year`` (per
    frequency; SES weight per KPI), or defaults."""
    allp = load_calibration(path, origin_year).get("params") or {}
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


def scale_floor(
    indicator: str,
    pop_band: str = "unknown",
    path: Path | None = None,
    origin_year: int | None = None,
) -> float:
    """The scale floor of an annual KPI for a kommun size band (0.0 without a calibration entry)."""
    floors = (load_calibration(path, origin_year).get("params") or {}).get(
        "scale_floor_by_band"
    ) or {}
    v = floors.get(f"{indicator}|{pop_band}", floors.get(indicator))
    return float(v) if v is not None and np.isfinite(v) else 0.0


def series_scale(years: np.ndarray, point: float, is_count: bool, subyear: bool) -> float:
    """MASE scale (mean absolute year-on-year change, floored as the backtest floors it for a
    sub-annual or an annual series); for a constant or one-year history 10 % of the level, and
    at least one unit for counts."""
    s = m.mase_scale(years, rel_floor=m.rel_scale_floor(subyear))
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


# --------------------------------------------------------------------------- a series' own track record

#: A series' own track record is its errors of at most this many latest calibration years.
OWN_YEARS = 12
#: A series' error ratio is kept within this range (a handful of lucky years cannot shrink an
#: interval to a point, nor a few bad ones blow it up beyond recognition).
LAMBDA_RANGE = (0.2, 5.0)
#: Absolute scaled errors are capped at this quantile of their pool before credibility is
#: estimated (one merger or reclassification would otherwise dominate a kommun's record).
CAP_QUANTILE = 0.98


@dataclass(frozen=True)
class Credibility:
    """Bühlmann credibility parameters of one error pool, for the absolute scaled errors ``|e|``.

    ``mu`` is the collective mean of the capped ``|e|``, ``k`` = expected process variance /
    variance of the hypothetical means (σ²/τ²; None when the series' means do not differ more
    than chance: every series gets the pool's width), ``cap`` the cap of ``|e|``.
    """

    mu: float
    k: float | None
    cap: float

    def as_json(self) -> dict[str, float | None]:
        return {
            "mu": round(self.mu, 5),
            "k": None if self.k is None else round(self.k, 4),
            "cap": round(self.cap, 4),
        }


def credibility_fit(abs_errors: np.ndarray, series: np.ndarray) -> Credibility | None:
    """Bühlmann–Straub credibility parameters of a pool from its series' absolute scaled errors.

    Method: Bühlmann (1967), "Experience rating and credibility", ASTIN Bulletin 4(3), 199–207, and
    Bühlmann & Straub (1970), with the non-parametric estimators of Bühlmann & Gisler (2005), *A
    Course in Credibility Theory*, sec. 4.8: σ² = pooled within-series variance of ``|e|``,
    τ² = (Σ kᵢ (x̄ᵢ − x̄)² − (S − 1) σ²) / (K − Σ kᵢ² / K), with kᵢ errors of series i, S series
    and K errors in all. Returns None for an empty pool.
    """
    x = np.asarray(abs_errors, dtype="float64")
    ok = np.isfinite(x)
    x, series = x[ok], np.asarray(series)[ok]
    if x.size == 0:
        return None
    cap = float(np.quantile(x, CAP_QUANTILE))
    x = np.minimum(x, cap)
    mu = float(x.mean())
    if mu <= 0:
        return Credibility(mu, None, cap)
    _, inv = np.unique(series, return_inverse=True)
    k_i = np.bincount(inv).astype("float64")
    mean_i = np.bincount(inv, weights=x) / k_i
    dof = float((k_i - 1).sum())
    if dof <= 0 or k_i.size < 2:
        return Credibility(mu, None, cap)
    sigma2 = float(((x - mean_i[inv]) ** 2).sum() / dof)
    K = float(k_i.sum())
    denom = K - float((k_i**2).sum()) / K
    tau2 = (float((k_i * (mean_i - mu) ** 2).sum()) - (k_i.size - 1) * sigma2) / denom
    if tau2 <= 0 or denom <= 0:
        return Credibility(mu, None, cap)
    return Credibility(mu, sigma2 / tau2, cap)


def credibility_ratio(
    n_own: np.ndarray | float, mean_own: np.ndarray | float, cred: Credibility | None
) -> np.ndarray:
    """A series' error ratio λ: its credibility-weighted mean ``|e|`` over the pool's.

    λ = (Z · x̄_own + (1 − Z) · μ) / μ with Z = n / (n + k) (Bühlmann's credibility weight): a
    series with a long, steady record gets nearly its own width, one with a short record nearly
    the pool's (λ = 1). ``mean_own`` is the mean of its capped ``|e|``; λ is kept in
    :data:`LAMBDA_RANGE`. The predictive errors of the series are λ × the pool's errors of
    series standardised the same way (a locally weighted split-conformal interval: Lei, G'Sell,
    Rinaldo, Tibshirani & Wasserman (2018), "Distribution-free predictive inference for
    regression", JASA 113(523), sec. 5.2), so the pool's coverage holds while smooth series get
    narrower intervals and volatile ones wider.
    """
    n = np.asarray(n_own, dtype="float64")
    mean = np.nan_to_num(np.asarray(mean_own, dtype="float64"), nan=0.0)
    if cred is None or cred.k is None or cred.mu <= 0:
        return np.ones(np.broadcast(n, mean).shape)
    z = n / (n + cred.k)
    lam = (z * np.minimum(mean, cred.cap) + (1 - z) * cred.mu) / cred.mu
    return np.clip(lam, *LAMBDA_RANGE)


def pool_credibility(
    pool_id: str, path: Path | None = None, origin_year: int | None = None
) -> Credibility | None:
    """The credibility parameters stored with a pool (None for a pool without them)."""
    cell = (load_calibration(path, origin_year).get("pools") or {}).get(pool_id) or {}
    c = cell.get("cred")
    if not c:
        return None
    return Credibility(
        float(c["mu"]), None if c.get("k") is None else float(c["k"]), float(c["cap"])
    )


def own_abs_errors(
    hist: np.ndarray, cur: np.ndarray, ctx: m.MethodContext, method: str, floor: float = 0.0
) -> np.ndarray:
    """The method's absolute scaled errors on this series' own last :data:`OWN_YEARS` years, each
    scaled by the series' scale as it was known before that year (as the backtest scales them),
    at the forecast's published mask."""
    known = ~np.isnan(cur)
    fn = m.METHODS[method]
    agg = ctx.aggregation if hist.shape[1] > 1 else "point"
    years = m.yearly_from_matrix(hist, agg)
    out = []
    for j in range(max(1, hist.shape[0] - OWN_YEARS), hist.shape[0]):
        row = hist[j]
        if np.isnan(row).any():
            continue
        scale = m.mase_scale(years[:j], rel_floor=m.rel_scale_floor(hist.shape[1] > 1))
        if scale is None:
            continue
        scale = max(scale, floor)
        try:
            f = fn(hist[:j], np.where(known, row, np.nan), ctx)
        except Exception:  # a method that cannot run on a short past simply gives no error
            f = None
        if f is not None and np.isfinite(f) and scale > 0:
            out.append(abs(float(years[j]) - f) / scale)
    return np.asarray(out, dtype="float64")
