"""Supporting-goal content and results that stand out: what enriches the report beyond forecasts.

:func:`ks_analysis.report.build.build_report` calls :func:`resolve_added_values` and
:func:`stands_out_for_report` on inputs already loaded at the edge; :func:`render_goal_extras` and
:func:`render_stands_out` give the HTML for those parts.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from ks_analysis.errors import DataFileError
from ks_analysis.evaluate.standout import StandOutRules, find_standouts
from ks_analysis.goals.catalogue import Catalogue
from ks_analysis.report.followup import kommunkompassen_pointer
from ks_analysis.report.html import Markup, render
from ks_analysis.report.model import GoalEntry, Report
from ks_analysis.swedish import fmt_number

__all__ = [
    "render_goal_extras",
    "render_stands_out",
    "resolve_added_values",
    "stands_out_for_report",
    "TOP_STANDS_OUT",
]

#: How many flags the report's section shows (the analyst notebook 05 lists them all).
TOP_STANDS_OUT = 8
_CODE_SV = {
    "peer_high": "Högt jämfört med jämförelsegruppen",
    "peer_low": "Lågt jämfört med jämförelsegruppen",
    "trend_break": "Bryter egen trend",
    "gender_gap_widening": "Ökande skillnad kvinnor–män",
}
# Words in a KPI title that make a result a health result (goal 5 asks to follow those that stand out).
_HEALTH_WORDS = (
    "hälsa",
    "ohälsa",
    "sjuk",
    "psykisk",
    "ohälsotal",
    "övervikt",
    "fetma",
    "tandhälsa",
    "dödlighet",
    "medellivslängd",
    "tobak",
    "alkohol",
    "fysisk aktivitet",
)


def _num(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def resolve_added_values(
    added: list[dict[str, Any]],
    *,
    tidy: pd.DataFrame,
    municipality: str,
    as_of: dt.date,
    titles: dict[str, str],
    source_file: str,
    goal: int,
) -> list[dict[str, Any]]:
    """Indicator added values resolved to their latest value and period known at ``as_of``.

    Raises:
        DataFileError: naming the assessment file, goal and field when an indicator id is not in
            the tidy table for the kommun (or has no value published by ``as_of``).
    """
    out = []
    mine = tidy[(tidy["municipality"] == municipality) & (tidy["gender"] == "T")]
    for n, v in enumerate(added, start=1):
        if "indicator" not in v:
            value = _num(v.get("value"))
            out.append(
                {
                    **v,
                    "value_text": f"{fmt_number(value, str(v.get('unit', '')))} {v.get('unit', '')}".strip(),
                }
            )
            continue
        ind = str(v["indicator"]).upper()
        rows = mine[mine["indicator"] == ind]
        if rows.empty:
            raise DataFileError(
                f"assessments/{source_file}",
                f"goal {goal}, field 'added_values[{n}].indicator': {ind!r} is not in the data for {municipality}",
                fix="use an indicator id of the tidy table (ks-analysis clean lists them) or give description, value, unit and source",
            )
        known = rows[pd.to_datetime(rows["published"]) <= pd.Timestamp(as_of)]
        if known.empty:
            raise DataFileError(
                f"assessments/{source_file}",
                f"goal {goal}, field 'added_values[{n}].indicator': {ind!r} has no value published by {as_of.isoformat()}",
                fix="choose an indicator with published data, or pass a later --as-of",
            )
        latest = known.sort_values(["period_end", "published"]).iloc[-1]
        value = float(latest["value"])
        unit = str(latest["unit"])
        out.append(
            {
                "indicator": ind,
                "title": v.get("description") or titles.get(ind, ind),
                "value": value,
                "unit": unit,
                "period": str(latest["period"]),
                "published": pd.Timestamp(latest["published"]).date().isoformat(),
                "source": str(latest["source"]),
                "value_text": f"{fmt_number(value, unit)} {unit} ({latest['period']})".replace(
                    "  ", " "
                ),
            }
        )
    return out


def _related_goal(indicator: str, title: str, goal_of: dict[str, int]) -> int | None:
    base = indicator.split("__")[0]
    if base in goal_of:
        return goal_of[base]
    low = title.lower()
    return 5 if any(w in low for w in _HEALTH_WORDS) else None


def stands_out_for_report(
    tidy: pd.DataFrame,
    catalogue: Catalogue,
    municipality: str,
    as_of: dt.date,
    titles: dict[str, str],
    up_to_year: int,
    rules: StandOutRules | None = None,
) -> list[dict[str, Any]]:
    """All stand-out flags as JSON-able dicts, strongest first, each with its latest year up to ``up_to_year``."""
    cat_titles = {i.id: i.title for _, i in catalogue.indicators()}
    directions = {i.id: i.higher_is_better for _, i in catalogue.indicators()}
    aggregations = {i.id: i.aggregation for _, i in catalogue.indicators()}
    goal_of = {i.id: g.id for g, i in catalogue.indicators()}
    peers = list(catalogue.peer_group) or None
    known = tidy[tidy["period"].astype(str).str.slice(0, 4).astype(int) <= up_to_year]
    units = {i.id: i.unit for _, i in catalogue.indicators()}
    flags = find_standouts(
        known,
        municipality=municipality,
        peers=peers,
        as_of=as_of,
        rules=rules,
        titles={**titles, **cat_titles},
        directions=directions,
        aggregations=aggregations,
        units=units,
        min_year=up_to_year - 2,
    )
    out = []
    for rec in flags.to_dict("records"):
        ind = str(rec["indicator"])
        if str(rec["title"]) in (ind, ind.split("__")[0]):
            # A series with no title for readers (e.g. SCB's population of one age, a source's
            # raw id) cannot be explained in the report; notebook 05-stands-out lists it.
            continue
        item: dict[str, Any] = {
            str(k): (_num(v) if isinstance(v, float) else v) for k, v in rec.items()
        }
        for count in ("peer_n", "n_peers_above", "n_peers_below", "year"):
            if item.get(count) is not None:
                item[count] = int(item[count])  # counts come out of the frame as floats next to NaN
        item["strength"] = round(float(rec["strength"]), 3)
        item["related_goal"] = _related_goal(str(rec["indicator"]), str(rec["title"]), goal_of)
        out.append(item)
    return out


def _flag_numbers(f: dict[str, Any]) -> str:
    """The numbers behind a stand-out flag, in Swedish."""
    unit = str(f.get("unit") or "")
    u = f"\u00a0{unit}" if unit in ("%",) else ""
    if f["code"] == "gender_gap_widening":
        return f"Kvinnor {fmt_number(f.get('value_k'))}{u}, män {fmt_number(f.get('value_m'))}{u}; skillnad {fmt_number(abs(f['value']))} mot {fmt_number(f['reference'])} tidigare år"
    text = f"{fmt_number(f['value'])}{u}"
    if f["code"] in ("peer_high", "peer_low"):
        text += f"; median {fmt_number(f['peer_median'])}{u} ({f['peer_n']} kommuner), spann {fmt_number(f['band_lo'])}–{fmt_number(f['band_hi'])}{u}"
    else:
        text += f"; väntat {fmt_number(f['band_lo'])}–{fmt_number(f['band_hi'])}{u}"
    return text


def render_goal_extras(goal: GoalEntry) -> Markup:
    """HTML added at the end of a goal's section: Kommunkompassen, and results that stand out for goals 5 and 6."""
    parts = []
    if goal.get("kommunkompassen"):
        # The table is shown once, in its own section; the goal points to it.
        parts.append(kommunkompassen_pointer(goal))
    related = goal.get("stands_out") or []
    if related and goal.get("id") in (5, 6):
        lead = {
            5: "Målet ska följa hälsoresultat som sticker ut.",
            6: "Målet ska följa kvinnors och mäns upplevelse var för sig.",
        }[goal["id"]]
        parts.append(render("goal_stands_out.html.j2", lead=lead, flags=related))
    return Markup("").join(parts)


def render_stands_out(report: Report) -> Markup:
    """HTML of the section 'Resultat som sticker ut' (empty when the report has none)."""
    flags = report.get("stands_out")
    if flags is None:
        return Markup("")
    return render(
        "stands_out.html.j2",
        rules=report.get("stands_out_rules") or {},
        top=flags[:TOP_STANDS_OUT],
        n_flags=len(flags),
        code_sv=_CODE_SV,
        numbers=_flag_numbers,
    )
