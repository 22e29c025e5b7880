"""Nowcasts of annual KPIs from an in-year signal: a bridge equation pooled over kommuner.

An annual Kolada KPI of year *y* is published months after the year; its in-year signal (a
quarterly or monthly series, named by the catalogue's ``nowcast:`` entry) is published within
weeks of each sub-period. At a cutoff the signal's first *J* sub-periods of *y* may be known.
The bridge equation (Baffigi, Golinelli and Parigi 2004, "Bridge models to forecast the euro
area GDP", *Int. J. Forecasting* 20(3)) regresses the KPI's change on the signal's known part:

    log(Y[k,y] / Y[k,y-1]) = a + a_k + b1 * x1[k,y] + b2 * x2[k,y] + e

where, for the catalogue's mapping of the signal to the KPI,

* ``year_end_stock`` (folkmängd 31/12 = Q4): ``x1`` is the growth since the start of the year
  (last known sub-period over last year's final one), ``x2`` last year's growth over the
  sub-periods still unknown this year;
* ``sum_of_flows`` and ``mean_of_periods`` (new firms, an årsmedelvärde of monthly counts): ``x1``
  is the log ratio of this year's known sub-periods (their mean) to last year's mean over all its
  sub-periods, ``x2`` the same ratio for last year's own known sub-periods (where those
  sub-periods usually stand in the year). ``x1 - x2`` is the year-on-year change of the known
  part; with both the bridge can learn how far the known part's level carries to the year (in
  2021 the first quarter was far above the first quarter of 2020 but not above 2020's mean, and
  the year fell).

A KPI per 1 000 inhabitants or in per cent of a population moves with the signal's ratio less the
denominator's growth; the denominators grow by about 1 % a year and the intercept and kommun
effects absorb that (docs/nowcasting.md). The model is fitted on earlier years only (every year
whose KPI and signal are published by the cutoff, with the same *J* known sub-periods), pooled
over the kommuner with both series, with kommun effects ``a_k`` shrunk towards zero by a ridge
penalty (:data:`KOMMUN_RIDGE`, fixed, not tuned). The predictive distribution is the point plus
the **out-of-sample** residuals of leave-one-year-out refits on those earlier years (each earlier
year predicted from the other earlier years; a whole year is left out because kommuner share a
year's shock), the split-conformal idea of the package's other error pools. Each left-out year's
common part (its mean residual) is scaled to the new year's known move (:func:`known_move`, the
mean |x1 - x2| over kommuner; floored at the median year's): a year whose known sub-periods moved
far had a larger common shock in the rest of the year (2021 and 2022 after the pandemic year).
Only years before the cutoff enter, so a report made then could have done the same. With fewer than :data:`MIN_RESIDUALS` such residuals the in-sample residuals, widened by
:data:`FEW_ERRORS_WIDEN`, are used and the result is flagged ``few_calibration_errors``.

Everything here is a pure function of arrays; the tidy table is turned into arrays once
(:func:`nowcast_data`) and cut at each cutoff (:meth:`NowcastData.at`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ks_analysis._memo import Memo
from ks_analysis.forecast.series import TidyIndex, tidy_index

__all__ = [
    "NowcastData",
    "NowcastFit",
    "NowcastResult",
    "nowcast_data",
    "fit_bridge",
    "nowcast",
    "KOMMUN_RIDGE",
    "MIN_TRAIN",
    "MIN_RESIDUALS",
    "METHOD",
]

METHOD = "nowcast_bridge"
#: Ridge penalty on the kommun effects, in observations: a kommun with n years gets n/(n+4) of
#: its own mean residual. Fixed a priori (not tuned on any backtest year).
KOMMUN_RIDGE = 4.0
#: Fewest training rows (kommun-years) and distinct years a bridge is fitted on.
MIN_TRAIN = 12
MIN_TRAIN_YEARS = 3
#: Fewest out-of-sample residuals for the interval; with fewer, widened in-sample residuals.
MIN_RESIDUALS = 20
FEW_ERRORS_WIDEN = 1.5
#: Offset in the log ratios of flows and means, so that a quarter with zero new firms is finite.
FLOW_OFFSET = 0.5
PERIODS = {"Q": 4, "M": 12}


@dataclass(frozen=True)
class NowcastData:
    """An annual KPI and its signal as arrays over (kommun, year[, sub-period]), with publication dates."""

    municipalities: tuple[str, ...]
    y0: int
    kpi: np.ndarray  # [k, t] value
    kpi_pub: np.ndarray  # [k, t] datetime64[D]; NaT when absent
    sig: np.ndarray  # [k, t, p] value
    sig_pub: np.ndarray  # [k, t, p] datetime64[D]
    P: int
    mapping: str

    def at(self, as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """(KPI, signal) as known at ``as_of``: values published after it are NaN."""
        cut = np.datetime64(as_of, "D")
        kpi = np.where(self.kpi_pub <= cut, self.kpi, np.nan)
        sig = np.where(self.sig_pub <= cut, self.sig, np.nan)
        return kpi, sig

    def index(self, municipality: str) -> int | None:
        try:
            return self.municipalities.index(municipality)
        except ValueError:
            return None


#: Arrays by (table fingerprint, KPI, signal, mapping, gender): a report's forecasts, its
#: previous period's and last year's verdicts ask for the same few pairs of one table again.
_ARRAYS: Memo[NowcastData | None] = Memo(32)


def nowcast_data(
    tidy: pd.DataFrame, kpi: str, signal: str, mapping: str, gender: str = "T"
) -> NowcastData | None:
    """The arrays of KPI ``kpi`` and its signal ``signal`` from a tidy table; None without a signal.

    Only kommuner (and län/riket) that have both series are kept. The tidy rows must carry
    ``published`` (the clean stage sets it for every row). Where a cell has two rows, the
    later row in table order counts. The arrays are read-only and shared by later calls on a
    table of the same content.
    """
    ix = tidy_index(tidy)
    key = (ix.fingerprint, kpi, signal, mapping, gender)
    if key in _ARRAYS:
        return _ARRAYS.get(key)
    return _ARRAYS.put(key, _arrays(ix, kpi, signal, mapping, gender))


def _rows(
    ix: TidyIndex, indicator: str, gender: str, freqs: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(row positions in table order, their kommun) of one indicator's rows of ``freqs``."""
    pos, muni = [], []
    for key in ix.keys_of(indicator, with_orter=False):
        if key[2] == gender:
            p = ix.groups[key]
            p = p[np.isin(ix.frequency[p], freqs)]
            pos.append(p)
            muni.append(np.full(len(p), key[1], dtype=object))
    if not pos:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=object)
    allpos, allmuni = np.concatenate(pos), np.concatenate(muni)
    order = np.argsort(allpos, kind="stable")
    return allpos[order], allmuni[order]


def _arrays(ix: TidyIndex, kpi: str, signal: str, mapping: str, gender: str) -> NowcastData | None:
    k_pos, k_muni = _rows(ix, kpi, gender, ("Y",))
    s_pos, s_muni = _rows(ix, signal, gender, tuple(PERIODS))
    if not len(k_pos) or not len(s_pos):
        return None
    freq = str(ix.frequency[s_pos[0]])  # the signal's first row's frequency (table order)
    keep = ix.frequency[s_pos] == freq
    s_pos, s_muni = s_pos[keep], s_muni[keep]
    P = PERIODS[freq]
    munis = tuple(sorted(set(k_muni) & set(s_muni)))
    if not munis:
        return None
    k_in, s_in = np.isin(k_muni, munis), np.isin(s_muni, munis)
    k_pos, k_muni, s_pos, s_muni = k_pos[k_in], k_muni[k_in], s_pos[s_in], s_muni[s_in]
    k_year, s_year, s_sub = ix.year[k_pos], ix.year[s_pos], ix.sub[s_pos]
    y0 = int(min(k_year.min(), s_year.min()))
    T = int(max(k_year.max(), s_year.max())) - y0 + 1
    where = {m: i for i, m in enumerate(munis)}
    K = len(munis)
    kpi_a = np.full((K, T), np.nan)
    kpi_p = np.full((K, T), np.datetime64("NaT"), dtype="datetime64[D]")
    ki = np.fromiter((where[m] for m in k_muni), dtype=int, count=len(k_muni))
    kpi_a[ki, k_year - y0] = ix.value[k_pos]
    kpi_p[ki, k_year - y0] = ix.published[k_pos].astype("datetime64[D]")
    sig_a = np.full((K, T, P), np.nan)
    sig_p = np.full((K, T, P), np.datetime64("NaT"), dtype="datetime64[D]")
    si = np.fromiter((where[m] for m in s_muni), dtype=int, count=len(s_muni))
    sig_a[si, s_year - y0, s_sub] = ix.value[s_pos]
    sig_p[si, s_year - y0, s_sub] = ix.published[s_pos].astype("datetime64[D]")
    for a in (kpi_a, kpi_p, sig_a, sig_p):
        a.flags.writeable = False
    return NowcastData(munis, y0, kpi_a, kpi_p, sig_a, sig_p, P, mapping)


def known_periods(sig_year: np.ndarray) -> np.ndarray:
    """Per row of ``sig_year`` [k, p]: the number of leading sub-periods that are known."""
    known = np.isfinite(sig_year)
    return np.where(known.all(axis=1), known.shape[1], np.argmin(known, axis=1))


def features(sig: np.ndarray, t: int, J: int, mapping: str) -> np.ndarray:
    """The bridge regressors ``[x1, x2]`` of every kommun for year index ``t`` with ``J`` known sub-periods."""
    K, _, P = sig.shape
    out = np.full((K, 2), np.nan)
    if t < 1 or J < 1:
        return out
    cur, prev = sig[:, t, :], sig[:, t - 1, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        if mapping == "year_end_stock":
            out[:, 0] = np.log(cur[:, J - 1] / prev[:, P - 1])
            out[:, 1] = np.log(prev[:, P - 1] / prev[:, J - 1]) if J < P else 0.0
        else:
            ytd = cur[:, :J].mean(axis=1) + FLOW_OFFSET
            last_ytd = prev[:, :J].mean(axis=1) + FLOW_OFFSET
            last_year = prev.mean(axis=1) + FLOW_OFFSET  # NaN unless last year is complete
            out[:, 0] = np.log(ytd / last_year)
            out[:, 1] = np.log(last_ytd / last_year)
    out[~np.isfinite(out)] = np.nan
    return out


def _training(
    kpi: np.ndarray, sig: np.ndarray, upto: int, J: int, mapping: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows (X [n,2], z [n], kommun [n], year index [n]) of years 1..upto-1 with KPI, last KPI and signal known."""
    xs, zs, ks, ts = [], [], [], []
    for t in range(1, upto):
        x = features(sig, t, J, mapping)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log(kpi[:, t] / kpi[:, t - 1])
        ok = np.isfinite(z) & np.isfinite(x).all(axis=1)
        if ok.any():
            xs.append(x[ok])
            zs.append(z[ok])
            ks.append(np.flatnonzero(ok))
            ts.append(np.full(int(ok.sum()), t))
    if not xs:
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return np.vstack(xs), np.concatenate(zs), np.concatenate(ks), np.concatenate(ts)


@dataclass(frozen=True)
class NowcastFit:
    """A fitted bridge: coefficients, kommun effects and the residuals that set its intervals."""

    intercept: float
    beta: np.ndarray  # [2]
    kommun_effect: np.ndarray  # [K]
    residuals: np.ndarray  # out-of-sample (or widened in-sample) residuals of z
    out_of_sample: bool
    n_train: int
    train_years: tuple[int, ...]
    J: int
    residual_years: np.ndarray | None = None  # year index of each out-of-sample residual
    #: per out-of-sample residual, the size of its year's known move over that of the new year
    #: (:func:`known_move`); None: the year parts are taken as they are
    year_move_ratio: np.ndarray | None = None


def _solve(
    X: np.ndarray, z: np.ndarray, k: np.ndarray, K: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """Least squares with an intercept, two slopes and ridge-penalised kommun effects."""
    n = len(z)
    D = np.zeros((n, K))
    D[np.arange(n), k] = 1.0
    A = np.column_stack([np.ones(n), X, D])
    pen = np.zeros(A.shape[1])
    pen[3:] = KOMMUN_RIDGE
    pen[1:3] = 1e-6  # keeps the system solvable when a regressor is constant (e.g. x2 = 0 at J = P)
    coef = np.linalg.solve(A.T @ A + np.diag(pen), A.T @ z)
    return float(coef[0]), coef[1:3], coef[3:]


def known_move(x: np.ndarray) -> float:
    """The size of a year's known move: the mean over kommuner of ``|x1 - x2|`` (for flows and means
    the year-on-year change of the known sub-periods; for a year-end stock the growth so far less
    last year's growth over the rest of the year); NaN without a kommun with both regressors."""
    ok = np.isfinite(x).all(axis=1)
    return float(np.mean(np.abs(x[ok, 0] - x[ok, 1]))) if ok.any() else float("nan")


def _year_move_ratio(
    X: np.ndarray, ts: np.ndarray, resid_years: np.ndarray, x_new: np.ndarray
) -> np.ndarray | None:
    """Per residual: its year's known move over the new year's, both floored at the median move of
    the residuals' years (a calm year is not taken for calmer than usual)."""
    years = np.unique(resid_years)
    move = {int(y): known_move(X[ts == y]) for y in years}
    floor = float(np.nanmedian(list(move.values())))
    new = known_move(x_new)
    if not (np.isfinite(floor) and floor > 0 and np.isfinite(new)):
        return None
    new = max(new, floor)
    ratio = {y: max(m, floor) / new if np.isfinite(m) else 1.0 for y, m in move.items()}
    return np.array([ratio[int(y)] for y in resid_years])


def fit_bridge(kpi: np.ndarray, sig: np.ndarray, t: int, J: int, mapping: str) -> NowcastFit | None:
    """The bridge for year index ``t`` with ``J`` known sub-periods, from the years before ``t`` only.

    None when fewer than :data:`MIN_TRAIN` rows or :data:`MIN_TRAIN_YEARS` years are available.
    The fit also records, per out-of-sample residual, how large its year's known move was against
    the known move of year ``t`` (of every kommun with ``J`` sub-periods known at the cutoff), by
    which :func:`_residual_draws` rescales each year's common part.
    """
    X, z, k, ts = _training(kpi, sig, t, J, mapping)
    years = np.unique(ts)
    if len(z) < MIN_TRAIN or len(years) < MIN_TRAIN_YEARS:
        return None
    K = kpi.shape[0]
    a, b, ak = _solve(X, z, k, K)
    resid: list[np.ndarray] = []
    resid_years: list[np.ndarray] = []
    for tv in years:  # leave one year out: each earlier year predicted from the other earlier years
        tr = ts != tv
        if tr.sum() < MIN_TRAIN:
            continue
        a2, b2, ak2 = _solve(X[tr], z[tr], k[tr], K)
        te = ts == tv
        resid.append(z[te] - (a2 + X[te] @ b2 + ak2[k[te]]))
        resid_years.append(ts[te])
    oos = np.concatenate(resid) if resid else np.zeros(0)
    if len(oos) >= MIN_RESIDUALS:
        years_t = tuple(int(y) for y in years)
        ry = np.concatenate(resid_years)
        ratio = _year_move_ratio(X, ts, ry, features(sig, t, J, mapping))
        return NowcastFit(a, b, ak, oos, True, len(z), years_t, J, ry, ratio)
    p = 3 + len(np.unique(k))
    ins = z - (a + X @ b + ak[k])
    widen = FEW_ERRORS_WIDEN * np.sqrt(len(z) / max(len(z) - p, 1))
    return NowcastFit(a, b, ak, ins * widen, False, len(z), tuple(int(y) for y in years), J)


def new_year_residuals(fit: NowcastFit) -> np.ndarray:
    """The out-of-sample residuals with each year's common part (its mean residual) scaled to the
    new year's known move: a year whose known sub-periods moved twice as much as usual had, on
    these data, a common shock in the rest of the year about twice as large (the year part is
    scaled as the package's errors are scaled by a series' scale; the rest is kept)."""
    r = fit.residuals
    if fit.residual_years is None or fit.year_move_ratio is None:
        return r
    years, inv = np.unique(fit.residual_years, return_inverse=True)
    mean = np.bincount(inv, weights=r) / np.bincount(inv)
    ratio = np.bincount(inv, weights=fit.year_move_ratio) / np.bincount(inv)
    return r - mean[inv] + (mean / ratio)[inv]


def _residual_draws(fit: NowcastFit, u: np.ndarray) -> np.ndarray:
    """The residual quantiles at probabilities ``u``, widened for a new year.

    The out-of-sample residuals come from a few left-out years, and the kommuner of one year share
    its shock: the year is the unit, as in the package's other error pools. Each year's common
    part is first scaled to the new year's known move (:func:`new_year_residuals`); the quantiles
    are then widened by :func:`ks_analysis.forecast.calibration._conformal` with the number of
    years and the share of the residuals' variance that is common to a year (only that part is
    stretched, by Student's t for the number of years)."""
    from ks_analysis.forecast import calibration as cal

    if fit.out_of_sample and fit.residual_years is not None:
        r = new_year_residuals(fit)
        k, rho = cal.year_components(r, fit.residual_years)
        q = cal._conformal(np.quantile(r, cal.QUANTILE_GRID), len(r), k, rho)
    else:
        q = np.quantile(fit.residuals, cal.QUANTILE_GRID)
    return np.interp(u, cal.QUANTILE_GRID, q)


@dataclass(frozen=True)
class NowcastResult:
    """A nowcast of one kommun's KPI year, or the reason there is none (``point`` None)."""

    point: float | None
    lo80: float | None = None
    hi80: float | None = None
    lo95: float | None = None
    hi95: float | None = None
    base: float | None = None  # last year's KPI value, known at the cutoff
    known_periods: int = 0
    flags: tuple[str, ...] = ()
    reason: str = ""
    calibration: str = ""
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: the 80 % interval from the residuals' own quantiles, before the widening for a new year
    #: (the backtest scores what the widening costs against it)
    unwidened80: tuple[float, float] | None = None


def nowcast(
    data: NowcastData,
    municipality: str,
    year: int,
    as_of: dt.date,
    *,
    n_samples: int = 2000,
    seed: int = 0,
    fits: dict[tuple[int, int], NowcastFit | None] | None = None,
) -> NowcastResult:
    """Nowcast ``municipality``'s KPI for ``year`` from what was published by ``as_of``.

    ``fits`` caches bridges per (year index, J) across kommuner of one cutoff: the pooled fit
    is the same for all of them. Returns a result with ``point`` None and a ``reason`` when the
    bridge cannot be used (no signal of the year yet, last year's KPI unpublished, too few years).
    """
    k = data.index(municipality)
    t = year - data.y0
    if k is None:
        return NowcastResult(None, reason="no in-year signal for this kommun")
    if t < 1 or t >= data.kpi.shape[1]:
        return NowcastResult(None, reason=f"no in-year signal for {year}")
    kpi, sig = data.at(as_of)
    if np.isfinite(kpi[k, t]):
        return NowcastResult(None, reason="the year's KPI is already published")
    J = int(known_periods(sig[k, t][None, :])[0])
    if J == 0:
        return NowcastResult(None, reason=f"no sub-period of {year} of the signal is published yet")
    base = kpi[k, t - 1]
    if not np.isfinite(base) or base <= 0:
        return NowcastResult(
            None,
            known_periods=J,
            reason=f"the KPI of {year - 1} is not yet published (the bridge needs it)",
        )
    x = features(sig, t, J, data.mapping)[k]
    if not np.isfinite(x).all():
        return NowcastResult(
            None,
            known_periods=J,
            reason=f"the signal of {year - 1} lacks the sub-periods known in {year}",
        )
    key = (t, J)
    if fits is not None and key in fits:
        fit = fits[key]
    else:
        fit = fit_bridge(kpi, sig, t, J, data.mapping)
        if fits is not None:
            fits[key] = fit
    if fit is None:
        return NowcastResult(
            None, known_periods=J, reason="too few earlier years with both the KPI and the signal"
        )
    zhat = fit.intercept + float(x @ fit.beta) + float(fit.kommun_effect[k])
    rng = np.random.default_rng(seed)
    draws = base * np.exp(zhat + _residual_draws(fit, rng.random(n_samples)))
    point = float(base * np.exp(zhat))
    q = np.quantile(draws, [0.025, 0.10, 0.90, 0.975])
    raw = base * np.exp(zhat + np.quantile(fit.residuals, [0.10, 0.90]))
    flags = () if fit.out_of_sample else ("few_calibration_errors",)
    kind = "out-of-sample" if fit.out_of_sample else "in-sample, widened"
    return NowcastResult(
        point,
        lo80=float(min(q[1], point)),
        hi80=float(max(q[2], point)),
        lo95=float(min(q[0], point)),
        hi95=float(max(q[3], point)),
        base=float(base),
        known_periods=J,
        flags=flags,
        calibration=f"nowcast bridge, {len(fit.residuals)} {kind} residuals, fitted on {fit.n_train} kommun-years {fit.train_years[0] + data.y0}-{fit.train_years[-1] + data.y0}",
        samples=draws,
        unwidened80=(float(min(raw[0], point)), float(max(raw[1], point))),
    )
