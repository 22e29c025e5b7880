"""Explore one indicator: its series, peers, women and men, provenance and forecast, for notebook 04.

:func:`load_exploration` cleans the raw data once and keeps what the notebook's cells show; each
``render_*`` function returns one HTML fragment (tables and an embedded PNG chart), so the notebook
stays thin and renders to one self-contained HTML file with ``ks-analysis explore``. The forecast
section and the series' track record are in :mod:`ks_analysis.report.exploration_forecast`.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ks_analysis import geo as geo_mod
from ks_analysis.clean import run_clean
from ks_analysis.errors import ParameterError
from ks_analysis.evaluate.standout import robust_band
from ks_analysis.forecast.engine import yearly_values
from ks_analysis.goals.catalogue import Indicator, Target, load_catalogue
from ks_analysis.ingest.kolada_web import kolada_titles
from ks_analysis.paths import DEMO_DIR, PROJECT_ROOT, relative_to_root
from ks_analysis.report.html import Markup, render
from ks_analysis.swedish import fmt_number, fmt_tick, gender_sv

__all__ = [
    "Exploration",
    "load_exploration",
    "render_heading",
    "render_series",
    "render_peers",
    "render_gender",
    "render_provenance",
]

_COLORS = {"T": "#1f4e79", "K": "#b5446e", "M": "#2a7f62"}


@dataclass(frozen=True)
class Exploration:
    """One indicator for one kommun: the rows of every municipality and what the cells need."""

    indicator: Indicator
    title: str
    municipality: str
    gender: str
    peers: tuple[str, ...]
    as_of: dt.date
    raw: Path
    rows: pd.DataFrame = field(
        repr=False
    )  # every tidy row of the indicator (all municipalities, genders)
    in_catalogue: bool = False


def _figure(fig: Any, alt: str, caption: str) -> Markup:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return render("figure.html.j2", png_base64=data, alt=alt, caption=caption)


def _axes() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(7.2, 3.0))
    ax.yaxis.set_major_formatter(FuncFormatter(fmt_tick))  # Swedish numbers on the value axis
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _table(df: pd.DataFrame, caption: str) -> Markup:
    return render(
        "table.html.j2",
        caption=caption,
        columns=list(df.columns),
        rows=[list(row) for row in df.itertuples(index=False)],
    )


def _section(title: str, *parts: Markup, message: str = "", intro: str = "") -> Markup:
    """One section of the exploration: a heading, then ``message`` (nothing to show) or ``intro`` and ``parts``."""
    return render("explore_section.html.j2", title=title, message=message, intro=intro, parts=parts)


def _adhoc_indicator(ind_id: str, rows: pd.DataFrame) -> Indicator:
    """An indicator outside the catalogue, described from its data (yearly point, higher is better)."""
    freqs = set(rows["frequency"])
    freq = "Y" if "Y" in freqs else "M" if "M" in freqs else "Q"
    unit = str(rows["unit"].iloc[0]) if len(rows) else ""
    rate = "%" in unit or "/" in unit
    agg = "point" if freq == "Y" else "mean" if rate else "sum"
    return Indicator(
        id=ind_id,
        title=ind_id,
        unit=unit,
        frequency=freq,
        aggregation=agg,
        direction="higher_is_better",
        role="context",
        target=Target("increase"),
        genders=tuple(sorted(set(rows["gender"]))) or ("T",),
    )


def load_exploration(
    *,
    indicator: str,
    municipality: str,
    peers: tuple[str, ...] | None = None,
    gender: str = "T",
    raw: Path | None = None,
    sources: Path | None = None,
    as_of: dt.date | None = None,
    goals: Path | None = None,
) -> Exploration:
    """Clean the raw data (as known at ``as_of``) and keep one indicator's rows, with its catalogue entry if any.

    The arguments are already parsed and checked at the edge (:mod:`ks_analysis.params`, through
    :func:`ks_analysis.notebook_api.load_exploration`); None means the default: the demo data, the
    other kommuner of the län as peers, everything known today.

    Raises:
        ParameterError: for an indicator that the data does not have for the kommun (with the
            nearest ids it does have).
    """
    as_of_d = as_of or dt.date.today()
    raw_p = raw or DEMO_DIR
    clean = run_clean(raw_p, sources, as_of=as_of)
    tidy = clean.tidy
    ind_id = indicator.strip().upper()
    rows = tidy[tidy["indicator"] == ind_id]
    mine = rows[rows["municipality"] == municipality]
    if mine.empty:
        have = sorted(tidy.loc[tidy["municipality"] == municipality, "indicator"].unique())
        import difflib

        near = difflib.get_close_matches(ind_id, have, n=5, cutoff=0.5) or have[:8]
        raise ParameterError(
            f"indicator {ind_id!r} has no rows for {municipality} in {relative_to_root(raw_p, PROJECT_ROOT)}; nearest ids with data: {', '.join(near)}"
        )
    cat = load_catalogue(goals)
    try:
        ind = cat.indicator(ind_id)
        in_cat = True
        title = ind.title
    except KeyError:
        ind = _adhoc_indicator(ind_id, mine)
        in_cat = False
        title = kolada_titles(raw_p).get(ind_id, ind_id)
    peer_codes = peers or tuple(
        c for c in geo_mod.kommuner_in_lan(geo_mod.lan_of(municipality)) if c != municipality
    )
    return Exploration(
        indicator=ind,
        title=title,
        municipality=municipality,
        gender=gender,
        peers=peer_codes,
        as_of=as_of_d,
        raw=raw_p,
        rows=rows.reset_index(drop=True),
        in_catalogue=in_cat,
    )


def _yearly(x: Exploration, code: str, gender: str) -> pd.Series:
    return yearly_values(
        x.rows, municipality=code, indicator=x.indicator, gender=gender, as_of=x.as_of
    )


def render_heading(x: Exploration) -> Markup:
    """Title, ids, unit, kommun, vintage and where the indicator sits in the goal catalogue."""
    cat = (
        "ingår i målkatalogen"
        if x.in_catalogue
        else "ingår inte i målkatalogen (beskrivs utifrån data: årsvärde, högre antas bättre)"
    )
    mine = x.rows[x.rows["municipality"] == x.municipality]
    return render(
        "explore_heading.html.j2",
        name=geo_mod.geo(x.municipality).name,
        municipality=x.municipality,
        title=x.title,
        indicator=x.indicator,
        frequencies=sorted(set(mine["frequency"])),
        in_catalogue=cat,
        as_of=x.as_of,
        peers=[geo_mod.geo(p).name for p in x.peers],
        genders=sorted(set(mine["gender"])),
        gender=x.gender,
    )


def render_series(x: Exploration) -> Markup:
    """The kommun's yearly series (the chosen gender), with its län and riket where present."""
    u = x.indicator.unit
    lan = geo_mod.lan_of(x.municipality)
    series = {code: _yearly(x, code, x.gender) for code in (x.municipality, lan, "0000")}
    s = series[x.municipality]
    if s.empty:
        return _section("Serien", message=f"Inga värden för {gender_sv(x.gender)}.")
    fig, ax = _axes()
    for code, style in ((x.municipality, "-o"), (lan, "--"), ("0000", ":")):
        ser = series[code]
        if not ser.empty:
            ax.plot(
                ser.index,
                ser.to_numpy(),
                style,
                label=geo_mod.geo(code).name,
                color=_COLORS["T"] if code == x.municipality else "#777",
                markersize=3,
            )
    ax.set_ylabel(x.indicator.unit)
    ax.legend(frameon=False, fontsize=8)
    table = pd.DataFrame(
        {
            "År": s.index.astype(int),
            geo_mod.geo(x.municipality).name: [fmt_number(v, u) for v in s],
            geo_mod.geo(lan).name: [fmt_number(series[lan].get(y), u) for y in s.index],
            "Riket": [fmt_number(series["0000"].get(y), u) for y in s.index],
        }
    )
    alt = f"Linjediagram: {x.title}, {geo_mod.geo(x.municipality).name} {int(s.index.min())}–{int(s.index.max())}, senast {fmt_number(float(s.iloc[-1]), u)}."
    return _section(
        "Serien",
        _figure(fig, alt, f"{x.title}, {gender_sv(x.gender)}"),
        _table(table.iloc[::-1].head(15), "Årsvärden, senaste först (högst 15 år)"),
    )


def render_peers(x: Exploration) -> Markup:
    """The latest common year's values of the kommun and its peers, and the peers' median and robust band over the years."""
    u = x.indicator.unit
    mine = _yearly(x, x.municipality, x.gender)
    peer_series = {p: _yearly(x, p, x.gender) for p in x.peers}
    years = sorted(
        {int(y) for s in peer_series.values() for y in s.index} & {int(y) for y in mine.index}
    )
    if not years:
        return _section(
            "Jämförelse med andra kommuner",
            message="Jämförelsekommunerna saknar värden för samma år.",
        )
    med, lo, hi = [], [], []
    for y in years:
        vals = [float(s.loc[y]) for s in peer_series.values() if y in s.index]
        c, _, half = robust_band(vals, 2.5)
        med.append(c)
        lo.append(c - half)
        hi.append(c + half)
    fig, ax = _axes()
    ax.fill_between(
        years, lo, hi, color="#999", alpha=0.25, label="Jämförelsekommunernas median ± 2,5·MAD"
    )
    ax.plot(years, med, "--", color="#555", label="Median")
    ax.plot(
        years,
        [float(mine.loc[y]) for y in years],
        "-o",
        color=_COLORS.get(x.gender, "#1f4e79"),
        markersize=3,
        label=geo_mod.geo(x.municipality).name,
    )
    ax.set_ylabel(x.indicator.unit)
    ax.legend(frameon=False, fontsize=8)
    y = years[-1]
    latest = sorted(
        ((geo_mod.geo(p).name, float(s.loc[y])) for p, s in peer_series.items() if y in s.index),
        key=lambda t: -t[1],
    )
    latest.append((geo_mod.geo(x.municipality).name + " ◀", float(mine.loc[y])))
    latest.sort(key=lambda t: -t[1])
    table = pd.DataFrame(
        {"Kommun": [n for n, _ in latest], f"Värde {y}": [fmt_number(v, u) for _, v in latest]}
    )
    alt = f"Diagram: {geo_mod.geo(x.municipality).name} mot jämförelsekommunernas median och robusta band {years[0]}–{y}."
    return _section(
        "Jämförelse med andra kommuner",
        _figure(fig, alt, f"{x.title}: kommunen och jämförelsekommunerna"),
        _table(table, f"Alla jämförelsekommuner {y}, högst först"),
    )


def render_gender(x: Exploration) -> Markup:
    """Women and men separately, and the gap between them, where the data is split by gender."""
    u = x.indicator.unit
    k, m = _yearly(x, x.municipality, "K"), _yearly(x, x.municipality, "M")
    if k.empty or m.empty:
        return _section("Kvinnor och män", message="Indikatorn är inte uppdelad på kön i data.")
    years = sorted(set(k.index) & set(m.index))
    fig, ax = _axes()
    ax.plot(
        years, [k.loc[y] for y in years], "-o", color=_COLORS["K"], markersize=3, label="Kvinnor"
    )
    ax.plot(years, [m.loc[y] for y in years], "-s", color=_COLORS["M"], markersize=3, label="Män")
    ax.set_ylabel(x.indicator.unit)
    ax.legend(frameon=False, fontsize=8)
    table = pd.DataFrame(
        {
            "År": years,
            "Kvinnor": [fmt_number(float(k.loc[y]), u) for y in years],
            "Män": [fmt_number(float(m.loc[y]), u) for y in years],
            "Skillnad (K − M)": [fmt_number(float(k.loc[y] - m.loc[y]), u) for y in years],
        }
    )
    alt = f"Diagram: {x.title} för kvinnor och män {years[0]}–{years[-1]}."
    return _section(
        "Kvinnor och män",
        _figure(fig, alt, f"{x.title}: kvinnor och män"),
        _table(table.iloc[::-1].head(12), "Kvinnor, män och skillnaden, senaste först"),
    )


def render_provenance(x: Exploration) -> Markup:
    """Which files and rows the kommun's values come from, and when each became known."""
    u = x.indicator.unit
    mine = x.rows[x.rows["municipality"] == x.municipality]
    by_file = (
        mine.groupby(["source", "source_file"])
        .agg(
            **{
                "Rader": ("value", "size"),
                "Första period": ("period", "min"),
                "Senaste period": ("period", "max"),
                "Publicerad först": ("published", "min"),
                "Publicerad senast": ("published", "max"),
            }
        )
        .reset_index()
    )
    for c in ("Publicerad först", "Publicerad senast"):
        by_file[c] = pd.to_datetime(by_file[c]).dt.date.astype(str)
    latest = mine.sort_values(["period_end", "gender"]).groupby("gender").tail(3)
    detail = pd.DataFrame(
        {
            "Period": latest["period"].astype(str),
            "Kön": latest["gender"].map(gender_sv),
            "Värde": [fmt_number(float(v), u) for v in latest["value"]],
            "Fil": latest["source_file"],
            "Rad": latest["source_row"].astype(int),
            "Publicerad": pd.to_datetime(latest["published"]).dt.date.astype(str),
        }
    )
    return _section(
        "Ursprung",
        _table(
            by_file.rename(columns={"source": "Källa", "source_file": "Fil"}),
            "Filer som kommunens värden kommer från",
        ),
        _table(detail, "De senaste värdena och deras källrader"),
        intro="Varje värde kan spåras till fil och rad (rad som i ett kalkylblad, rubrikraden är rad 1) och till dagen det blev känt.",
    )
