"""Method selection and tuning on earlier years only: the sub-annual 'selected' method, the annual SES weight.

Rolling-origin validation: the method (or SES weight / damped step) used for an evaluation year is
the one with the lowest MASE on earlier years, so its figures are those of the selection procedure
on years it never saw. The choice on all years is what the report's forecasts use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ks_analysis.backtest.design import SHOCK_YEARS
from ks_analysis.forecast import methods as m

__all__ = [
    "MIN_SELECT",
    "SELECT_FALLBACK",
    "AnnualTuning",
    "annual_tuning",
    "annual_tuning_by_year",
    "choose_ses_alpha",
    "choose_trend_phi",
    "with_ses_pooled",
    "selection_cell",
    "select_methods",
    "select_table",
    "select_cells",
    "with_selected",
    "selection_by_year",
]


@dataclass(frozen=True)
class AnnualTuning:
    """Per annual KPI group, the SES weight and (where a damped step won) the step's weight phi.

    ``by_origin`` holds the same chosen on earlier years only, per origin year of the calibration
    (see :func:`ks_analysis.backtest.calibrate.annual_tuning_by_origin`).
    """

    ses_alpha: dict[str, float] = field(default_factory=dict)
    trend_phi: dict[str, float] = field(default_factory=dict)
    by_origin: dict[int, AnnualTuning] = field(default_factory=dict)


def annual_tuning(records: pd.DataFrame, before_year: int = 10_000) -> AnnualTuning:
    """The annual candidates chosen on origins before ``before_year`` (default: every year)."""
    return AnnualTuning(
        choose_ses_alpha(records, before_year), choose_trend_phi(records, before_year)
    )


def annual_tuning_by_year(
    records: pd.DataFrame, before_years: list[int]
) -> dict[int, AnnualTuning]:
    """:func:`annual_tuning` for each of ``before_years``, from one table of error sums."""
    r = records[records["family"].eq("annual") & records["method"].str.match(r"ses_\d")]
    if r.empty:
        return {y: AnnualTuning() for y in before_years}
    ae = ((r["actual"] - r["point"]).abs() / r["scale"]).rename("ae")
    tab = (
        pd.concat([r[["group", "method", "year"]], ae], axis=1)
        .groupby(["group", "method", "year"])["ae"]
        .agg(["sum", "count"])
        .reset_index()
    )
    out: dict[int, AnnualTuning] = {}
    for y in before_years:
        prior = tab[tab["year"] < y].groupby(["group", "method"])[["sum", "count"]].sum()
        if prior.empty:
            out[y] = AnnualTuning()
            continue
        best = (
            (prior["sum"] / prior["count"])
            .rename("ae")
            .reset_index()
            .sort_values("ae", kind="stable")
        ).drop_duplicates("group")
        picks = {
            str(g): _ses_spec(str(meth))
            for g, meth in zip(best["group"], best["method"], strict=True)
        }
        out[y] = AnnualTuning(
            {g: a for g, (a, _) in picks.items()},
            {g: phi for g, (_, phi) in picks.items() if phi > 0},
        )
    return out


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


def choose_ses_alpha(records: pd.DataFrame, before_year: int) -> dict[str, float]:
    """Per KPI group, the SES weight of the candidate with the lowest MASE on origins before ``before_year``."""
    return {g: _ses_spec(meth)[0] for g, meth in _best_ses(records, before_year).items()}


def choose_trend_phi(records: pd.DataFrame, before_year: int) -> dict[str, float]:
    """Per KPI group whose best candidate adds a damped year-on-year step: that step's weight phi."""
    return {
        g: _ses_spec(meth)[1]
        for g, meth in _best_ses(records, before_year).items()
        if _ses_spec(meth)[1] > 0
    }


def with_ses_pooled(records: pd.DataFrame) -> pd.DataFrame:
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


def select_cells(records: pd.DataFrame) -> pd.DataFrame:
    """The distinct (family, cutoff, agg) of the records' sub-annual forecasts."""
    return records.loc[
        records["family"].ne("annual"), ["family", "cutoff", "agg"]
    ].drop_duplicates()


def select_table(records: pd.DataFrame) -> pd.DataFrame:
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
    """The method with the lowest MASE among those with enough forecasts; a tie keeps the fallback."""
    d = d[d["count"] >= MIN_SELECT]
    if d.empty or SELECT_FALLBACK not in set(d["method"]):
        return None
    mase = pd.Series((d["sum"] / d["count"]).to_numpy(), index=d["method"].to_numpy())
    if mase[SELECT_FALLBACK] <= mase.min() + 1e-12:
        return SELECT_FALLBACK  # a tie keeps the simple method
    return str(mase.idxmin())


def select_methods(
    records: pd.DataFrame,
    before_year: int | None = None,
    *,
    table: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
) -> dict[str, str]:
    """The sub-annual method with the lowest MASE per selection cell on origins before ``before_year``.

    Rolling-origin model selection: only forecasts of earlier years (shock years left out) are
    compared, so choosing the method for a year never looks at that year's outcomes. A cell
    (family, cutoff, aggregation) with at least :data:`MIN_SELECT` earlier forecasts per method
    chooses on its own; otherwise on all sub-annual series at that cutoff and aggregation that
    already know part of the year, then on those at any cutoff; with too few there too,
    :data:`SELECT_FALLBACK`.
    ``before_year=None`` uses every year (the choice the report's forecasts use).
    ``table`` and ``cells`` (the sums of :func:`select_table` and the records' distinct
    (family, cutoff, agg)) may be passed when the selection is made for many years.
    """
    tab = select_table(records) if table is None else table
    if before_year is not None:
        tab = tab[tab["year"] < before_year]
    g = tab.groupby(["family", "cutoff", "agg", "method"])[["sum", "count"]].sum().reset_index()
    by_cell = {k: d for k, d in g.groupby(["family", "cutoff", "agg"])}
    out: dict[str, str] = {}
    fams = select_cells(records) if cells is None else cells
    for fam, cutoff, agg in fams.itertuples(index=False):
        empty = g.iloc[:0]
        pick = (
            _best(by_cell.get((fam, cutoff, agg), empty))
            or _best(by_cell.get(("any", cutoff, agg), empty))
            or _best(by_cell.get(("any", "any", agg), empty))
        )
        out[selection_cell(str(fam), str(cutoff), str(agg))] = pick or SELECT_FALLBACK
    return out


def with_selected(records: pd.DataFrame) -> pd.DataFrame:
    """Add method 'selected': per evaluation year, the method :func:`select_methods` picks from earlier years only."""
    sub = records[records["family"].ne("annual")]
    if sub.empty or "agg" not in sub:
        return records
    picks = []
    table, cells = select_table(sub), select_cells(sub)
    for year in sorted(sub["year"].unique()):
        chosen = select_methods(sub, before_year=int(year), table=table, cells=cells)
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


def selection_by_year(scored: pd.DataFrame) -> list[dict[str, Any]]:
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
