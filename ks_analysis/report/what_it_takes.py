"""'Vad som krävs': what the rest of the year must bring, per indicator at risk and per goal.

Builds the ``what_it_takes`` objects of report.json (``docs/outputs.md``) from the computations
in :mod:`ks_analysis.evaluate.what_it_takes`, with their Swedish sentences. Pure: takes the tidy
table already cut to the vintage, the forecasts and the goal's parts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.evaluate.status import Part
from ks_analysis.evaluate.what_it_takes import Flip, GoalFlips, Requirement, goal_flips, requirement
from ks_analysis.forecast import nowcast as nc
from ks_analysis.forecast import series as sr
from ks_analysis.forecast.engine import Forecast
from ks_analysis.goals.catalogue import Goal, Indicator
from ks_analysis.periods import Period
from ks_analysis.report.model import IndicatorRow
from ks_analysis.swedish import MONTHS, fmt_date, fmt_number, fmt_percent, gender_sv, status_text

__all__ = [
    "AT_RISK",
    "Judged",
    "indicator_what_it_takes",
    "goal_what_it_takes",
    "value_sv",
    "short_title",
    "attach_what_it_takes",
    "GOAL_AT_RISK",
]

#: Indicator statuses that get a requirement (the target is not sure to be met).
AT_RISK = ("uncertain", "not_met")
#: Goal statuses whose section shows the "Vad som krävs" box.
GOAL_AT_RISK = ("uncertain", "not_met", "partly_met", "not_assessable")

_SIDE_SV = {">=": "minst", ">": "mer än", "<=": "högst", "<": "under"}
_FLIP_SV = {">": "över", "<": "under"}


@dataclass(frozen=True)
class Judged:
    """One judged indicator row as the requirement needs it: its forecast and threshold."""

    row: IndicatorRow
    indicator: Indicator
    forecast: Forecast
    threshold: tuple[float, str] | None


def short_title(title: str) -> str:
    """An indicator's title up to its first comma or parenthesis, lower-cased for a sentence:
    'Långtidsarbetslöshet 25-65 år, ...' -> 'långtidsarbetslöshet 25-65 år'."""
    cut = min((i for i in (title.find(","), title.find(" (")) if i > 0), default=len(title))
    text = title[:cut].strip().removesuffix(" per ort")
    words = text.split(" ")
    # An acronym ('KF'), or a name whose next word is capitalised too ('Nöjd Inflytande-Index').
    name = len(words) > 1 and words[1][:1].isupper()
    acronym = words[0][:2].isupper()  # 'KF-tittare', 'AF', not 'Invånare'
    return text if acronym or name else text[:1].lower() + text[1:]


def _unit(unit: str) -> str:
    u = unit.strip()
    if u == "%":
        return "\u00a0%"
    if u.startswith("antal/"):
        return "\u00a0per " + u.removeprefix("antal/").replace("1000", "1\u00a0000").replace(
            "inv", "invånare"
        )
    return ""


def value_sv(x: float | None, unit: str) -> str:
    """A value with its unit in Swedish: '1,17 %', '9,10 per 1 000 invånare', '1 621'."""
    return fmt_number(x, unit) + (_unit(unit) if x is not None else "")


def _periods_sv(idx: Sequence[int], frequency: str) -> str:
    """Sub-periods (0-based) in words: 'september–december', 'kvartal 3–4', 'december'."""
    if not idx:
        return ""
    names = list(MONTHS) if frequency == "M" else [f"kvartal {i + 1}" for i in range(4)]
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    out = []
    for r in runs:
        if len(r) == 1:
            out.append(names[r[0]])
        elif frequency == "M":
            out.append(f"{names[r[0]]}–{names[r[-1]]}")
        else:
            out.append(f"kvartal {r[0] + 1}–{r[-1] + 1}")
    return ", ".join(out)


def _years_sv(n: int) -> str:
    return "det senaste året" if n == 1 else f"de senaste {n} åren"


def _history_sv(req: Requirement) -> str:
    """'Så har det blivit 3 av de senaste 10 åren.' or the unprecedented sentence."""
    if req.already_met or req.impossible:
        return ""
    if req.n_years == 0:
        return "Det finns ingen historik att jämföra kravet med."
    if req.unprecedented:
        return f"Det kräver ett utfall som inte har inträffat {_years_sv(req.n_years)}."
    if req.compare == "change":
        return (
            f"En sådan förändring från året före hade kommunen {req.n_achieved} av "
            f"{_years_sv(req.n_years)}."
        )
    if req.kind == "value":
        return f"Dit nådde kommunen {req.n_achieved} av {_years_sv(req.n_years)}."
    return (
        f"Så mycket nådde kommunen under samma period {req.n_achieved} av {_years_sv(req.n_years)}."
    )


def _integer_series(hist: dict[int, np.ndarray], cur: np.ndarray, unit: str) -> bool:
    seen = np.r_[np.concatenate(list(hist.values())) if hist else np.zeros(0), cur]
    seen = seen[np.isfinite(seen)]
    return unit.strip() == "antal" and seen.size > 0 and bool(np.allclose(seen, np.round(seen)))


def _publication(
    tidy: pd.DataFrame, municipality: str, indicator_id: str, year: int
) -> dict[str, Any] | None:
    """When the year's value is expected: the end of the year plus the lag of the latest known value."""
    rows = sr.rows_of(tidy, indicator_id, municipality)
    if rows.empty or "published" not in rows or "period_end" not in rows:
        return None
    latest = rows.sort_values("period_end").iloc[-1]
    lag = pd.Timestamp(latest["published"]) - pd.Timestamp(latest["period_end"])
    expected = (pd.Timestamp(dt.date(year, 12, 31)) + lag).date()
    basis = str(latest.get("published_basis", "rule"))
    return {
        "expected": expected.isoformat(),
        "basis": basis,
        "calculated": True,
        "from_period": str(latest["period"]),
    }


def _publication_sv(pub: dict[str, Any] | None, in_year_signal: bool) -> str:
    if pub is None:
        when = "när nyckeltalet publiceras"
    else:
        how = (
            "beräknat med källans publiceringsregel"
            if pub["basis"] == "rule"
            else f"beräknat utifrån när värdet för {pub['from_period']} publicerades"
        )
        when = f"när nyckeltalet publiceras, väntat omkring {fmt_date(pub['expected'])} ({how})"
    if in_year_signal:
        return f"Prognosen bygger på en signal under året; årets utfall blir känt först {when}."
    return f"Nyckeltalet har ingen signal under året: årets utfall blir känt först {when}."


def indicator_what_it_takes(
    tidy: pd.DataFrame,
    municipality: str,
    period: Period,
    as_of: dt.date,
    j: Judged,
) -> dict[str, Any] | None:
    """The ``what_it_takes`` of one indicator row judged uncertain or not met; None otherwise."""
    row, ind, fc = j.row, j.indicator, j.forecast
    if row["role"] != "target" or row["status"] not in AT_RISK:
        return None
    base: dict[str, Any] = {"p_met": row["p_met"], "forecast": row["forecast"]}
    short = short_title(ind.title)
    if row.get("summary_of_orter"):
        return base | {"kind": "every_ort", "text": ""}  # filled in by the caller with its orter
    if fc.basis == "outcome" or j.threshold is None:
        return base | {
            "kind": "known_outcome",
            "text": f"Årets utfall för {short} är känt ({value_sv(fc.point, fc.unit)}); målet nåddes inte.",
        }
    freq, by_year, _ = sr.series_matrix(
        tidy, municipality=municipality, indicator=ind, gender=fc.gender, as_of=as_of, ort=fc.ort
    )
    unit = ind.unit
    P = fc.total_periods
    cur = sr.mask_after_cutoff(
        by_year.get(period.year, np.full(P, np.nan)), period.year, period.cutoff
    )
    hist = {y: v for y, v in by_year.items() if y < period.year and v.shape[0] == P}
    seen = np.r_[np.concatenate(list(hist.values())) if hist else np.zeros(0), cur]
    seen = seen[np.isfinite(seen)]
    thr, side = j.threshold
    req = requirement(
        hist, cur, period.year, fc.aggregation, thr, side, target_type=ind.target.type,
        last_value=fc.last_value, integer=_integer_series(hist, cur, unit),
        nonnegative=seen.size > 0 and bool(np.all(seen >= 0)),
    )  # fmt: skip
    label = _periods_sv(req.remaining_periods, freq)
    p = (
        NO_SKILL_P_SV
        if row.get("reason_code") == "no_skill"
        else f"sannolikhet enligt prognosen: {fmt_percent(row['p_met'])}"
    )
    word = _SIDE_SV[req.side]
    if req.already_met:
        text = f"Det som redan är känt för {short} räcker för målet."
    elif req.impossible:
        text = f"Målet för {short} kan inte längre nås: det som redan är känt överskrider det."
    elif req.kind == "remainder_sum":
        text = (
            f"Målet nås om {short} under {label} blir {word} {value_sv(req.required, unit)}; "
            f"samma period i fjol: {value_sv(req.last_year_same, unit)}; {p}."
        )
    elif req.kind == "remainder_mean":
        text = (
            f"Målet nås om {short} i genomsnitt under {label} blir {word} "
            f"{value_sv(req.required, unit)}; samma period i fjol: "
            f"{value_sv(req.last_year_same, unit)}; {p}."
        )
    else:
        ly = f"; i fjol: {value_sv(fc.last_value, unit)}" if fc.last_value is not None else ""
        where = f" i {fc.ort}" if fc.ort else ""
        when = (
            ""
            if P == 1
            else " vid årets slut"
            if fc.aggregation == "last"
            else " i genomsnitt under året"
            if fc.aggregation == "mean"
            else " under året"
        )
        text = (
            f"Målet nås om {short}{where}{when} blir {word} {value_sv(req.required, unit)}; prognosen är "
            f"{value_sv(fc.point, unit)}{ly}; {p}."
        )
    sentences = [text, _history_sv(req)]
    in_year_signal = fc.method in (nc.METHOD, "signal_ratio")
    pub = None
    if freq == "Y":
        pub = _publication(tidy, municipality, fc.indicator, period.year)
        sentences.append(_publication_sv(pub, in_year_signal))
    months = [int(i) + 1 for i in req.remaining_periods]
    return base | {
        "kind": req.kind,
        "threshold": req.threshold,
        "side": req.side,
        "required": req.required,
        "known": req.known,
        "remaining_periods": months,
        "total_periods": req.total_periods,
        "remaining_label": label,
        "last_year_same": req.last_year_same,
        "compare": req.compare,
        "required_compare": req.required_compare,
        "history": {int(y): float(v) for y, v in req.history.items()},
        "n_years": req.n_years,
        "n_achieved": req.n_achieved,
        "unprecedented": req.unprecedented,
        "already_met": req.already_met,
        "impossible": req.impossible,
        "in_year_signal": in_year_signal if freq == "Y" else True,
        "publication": pub,
        "text": " ".join(s for s in sentences if s),
    }


def every_ort_text(summary: IndicatorRow, ort_rows: list[IndicatorRow], ind: Indicator) -> str:
    """The sentence of a per-ort target every ort must reach: which orter are not sure to."""
    short = short_title(ind.title)
    risky = [r for r in ort_rows if r["status"] != "met"]
    listed = ", ".join(f"{r['ort']} ({fmt_percent(r['p_met'])})" for r in risky)
    return (
        f"Målet för {short} nås bara om varje ort når {value_sv(ind.target.value, ind.unit)}"
        f"; sannolikhet enligt prognosen att alla gör det: {fmt_percent(summary['p_met'])}."
        + (f" Inte säkert på: {listed}." if listed else "")
    )


def _and_list(items: Sequence[str]) -> str:
    """'a', 'a och b', 'a, b och c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]


def _flip_value(f: Flip, unit: str, integer: bool) -> str:
    """'under 1,17 %' / 'minst 50' (a whole count states the first whole number that flips)."""
    assert f.boundary is not None and f.flip_side is not None
    if integer:
        if f.flip_side == ">":
            return f"minst {value_sv(float(np.floor(f.boundary) + 1), unit)}"
        return f"högst {value_sv(float(np.ceil(f.boundary) - 1), unit)}"
    return f"{_FLIP_SV[f.flip_side]} {value_sv(f.boundary, unit)}"


#: Instead of a probability, for a forecast whose method has no demonstrated skill here.
NO_SKILL_P_SV = (
    "ingen sannolikhet anges, eftersom prognosmetoden inte har visat träffsäkerhet "
    "för denna typ av indikator vid denna tidpunkt"
)


def goal_what_it_takes(
    goal: Goal,
    status: str,
    parts: Sequence[Part],
    thresholds: dict[str, float],
    seed: int,
    judged: dict[str, Judged],
) -> dict[str, Any]:
    """The goal's ``what_it_takes``: where each target indicator's outcome flips the goal's status.

    ``judged`` maps a part id to the judged row whose forecast is that part's distribution (the
    total, or the only gender); parts without one are skipped with a reason.
    """
    if (
        parts
        and all(p.outcome for p in parts if p.met is not None)
        and any(p.met is not None for p in parts)
    ):
        return {
            "want": None,
            "deciding": None,
            "flips": [],
            "skipped": {},
            "text": f"Årets utfall är känt för målindikatorerna i mål {goal.id}; inget återstår av året som kan ändra bedömningen.",
        }
    candidates = {
        pid: (j.forecast.samples, j.threshold, float(j.forecast.point))
        for pid, j in judged.items()
        if j.threshold is not None
        and j.forecast.samples is not None
        and j.forecast.basis == "forecast"
        and j.forecast.point is not None
    }
    goal_is_met = status == "met"
    res: GoalFlips = goal_flips(
        goal.rollup, parts, thresholds, candidates, seed=seed, goal_is_met=goal_is_met
    )
    flips: list[dict[str, Any]] = []
    for f in res.flips:
        j = judged[f.part_id]
        unit = j.indicator.unit
        integer = unit.strip() == "antal" and bool(
            np.allclose(j.forecast.history.to_numpy(dtype=float), np.round(j.forecast.history))
        )
        text = ""
        if f.reachable:
            verb = "blir uppfyllt" if not goal_is_met else "bedöms inte längre uppfyllas"
            chance = (
                NO_SKILL_P_SV
                if j.row.get("reason_code") == "no_skill"
                else f"sannolikhet enligt prognosen: {fmt_percent(f.p_flip_side)}"
            )
            text = (
                f"Mål {goal.id} {verb} om {short_title(j.indicator.title)} hamnar "
                f"{_flip_value(f, unit, integer)}; i dag bedöms det bli "
                f"{value_sv(f.point, unit)} ({chance})."
            )
        flips.append(
            {
                "indicator": f.part_id,
                "title": j.indicator.title,
                "reachable": f.reachable,
                "boundary": f.boundary,
                "flip_side": f.flip_side,
                "p_flip_side": f.p_flip_side,
                "p_rule_at_boundary": f.p_rule_at,
                "p_rule_best": f.p_best,
                "forecast": f.point,
                "unit": unit,
                "text": text,
            }
        )
    flips.sort(key=lambda x: -float(x["p_flip_side"] if x["p_flip_side"] is not None else -1.0))
    titles = {i.id: i.title for i in goal.indicators}
    missing = [
        short_title(titles[pid]) for pid, why in res.skipped.items() if why == "not_assessable"
    ]
    unskilled = [
        short_title(titles[p.id]) for p in parts if p.unskilled and not p.outcome and p.id in titles
    ]
    if res.deciding is not None:
        lead = next(x["text"] for x in flips if x["indicator"] == res.deciding)
    elif unskilled and not goal_is_met and not missing:
        # Counted both ways, unskilled parts make any "at most P" figure read as a verdict.
        lead = (
            f"Mål {goal.id} avgörs av {_and_list(unskilled)}, där prognosmetoden inte har visat "
            "träffsäkerhet vid denna tidpunkt; vad var och en behöver nå står vid indikatorn."
        )
    elif missing and not goal_is_met:
        names = _and_list(missing)
        lead = (
            f"Mål {goal.id} kan inte bedömas som uppfyllt förrän {names} kan bedömas."
            if goal.rollup == "all_met"
            else f"Mål {goal.id} kan inte bedömas som uppfyllt förrän fler målindikatorer kan "
            f"bedömas; nu kan {names} inte bedömas."
        )
    elif not goal_is_met and flips:
        top = max(flips, key=lambda x: float(x["p_rule_best"] or 0.0))
        best = float(top["p_rule_best"] or 0.0)
        met_t = thresholds.get("met", 0.75)
        # 74,9 % shown as "75 %" would read as reaching the met threshold
        at_most = (
            f"strax under {fmt_percent(met_t)}"
            if round(100 * best) >= round(100 * met_t)
            else f"högst {fmt_percent(best)}"
        )
        lead = (
            f"Ingen enskild målindikator avgör mål {goal.id}: även om "
            f"{short_title(top['title'])} når sitt mål blir sannolikheten att målet uppfylls "
            f"{at_most}; fler målindikatorer måste nå sina mål."
        )
    elif not goal_is_met:
        lead = (
            f"Ingen enskild målindikator avgör mål {goal.id}: fler målindikatorer måste nå "
            "sina mål samtidigt."
        )
    else:
        lead = f"Ingen enskild målindikator kan ensam ändra bedömningen av mål {goal.id}."
    return {
        "want": res.want,
        "deciding": res.deciding,
        "flips": flips,
        "skipped": dict(res.skipped),
        "text": lead,
    }


def _part_rows(parts: Sequence[Part], judged: Sequence[Judged]) -> dict[str, Judged]:
    """The judged row whose forecast is each part's distribution: the total, or the only gender."""
    out: dict[str, Judged] = {}
    for p in parts:
        rows = [
            j
            for j in judged
            if j.indicator.id == p.id
            and j.row.get("ort") is None
            and not j.row.get("summary_of_orter")
        ]
        total = [j for j in rows if j.row["gender"] == "T"]
        if total:
            out[p.id] = total[0]
        elif len(rows) == 1:
            out[p.id] = rows[0]
    return out


def attach_what_it_takes(
    tidy: pd.DataFrame,
    municipality: str,
    period: Period,
    as_of: dt.date,
    goal: Goal,
    status: str,
    parts: Sequence[Part],
    thresholds: dict[str, float],
    seed: int,
    judged: Sequence[Judged],
) -> dict[str, Any]:
    """Set ``what_it_takes`` on every judged target row at risk; return the goal's own."""
    for j in judged:
        entry = indicator_what_it_takes(tidy, municipality, period, as_of, j)
        if entry is None:
            continue
        if entry["kind"] == "every_ort":
            ort_rows = [
                k.row
                for k in judged
                if k.indicator.id == j.indicator.id
                and k.row.get("ort")
                and k.row["gender"] == j.row["gender"]
            ]
            entry["text"] = every_ort_text(j.row, ort_rows, j.indicator)
        j.row["what_it_takes"] = entry
    return goal_what_it_takes(goal, status, parts, thresholds, seed, _part_rows(parts, judged))


# --------------------------------------------------------------------------- rapport.xlsx

#: The 'Vad som krävs' sheet of rapport.xlsx: (Swedish header, number format kind).
SHEET_COLUMNS = (
    ("Mål", "int"), ("Indikator", ""), ("Titel", ""), ("Ort", ""), ("Kön", ""), ("Avser", ""),
    ("Bedömning", ""), ("Villkor", ""), ("Krav", "number"), ("Känt hittills", "number"),
    ("Period som återstår", ""), ("Samma period i fjol", "number"), ("Prognos", "number"),
    ("Sannolikhet enligt prognosen", "percent"), ("År som nådde kravet", "int"),
    ("År jämförda", "int"), ("Inte inträffat de senaste åren", ""), ("Väntad publicering", ""),
    ("Text", ""),
)  # fmt: skip

_KIND_SV = {
    "remainder_sum": "summa för resten av året",
    "remainder_mean": "medelvärde för resten av året",
    "value": "årets värde",
    "known_outcome": "känt utfall",
    "every_ort": "varje ort",
}


def sheet_rows(rep: Any) -> list[tuple[Any, ...]]:
    """The sheet's rows: per steering goal its flip boundaries, then its indicators at risk."""
    out: list[tuple[Any, ...]] = []
    for g in rep["goals"]:
        w = g.get("what_it_takes")
        if not w:
            continue
        status = g["status_text"]
        for f in w["flips"]:
            cond = (
                f"målet slår om {_FLIP_SV[f['flip_side']]} gränsen"
                if f["reachable"]
                else "ingen gräns: indikatorn avgör inte ensam"
            )
            out.append(
                (
                    g["id"], f["indicator"], f["title"], "", "totalt", "gräns för målet",
                    status, cond, f["boundary"], None, "", None, f["forecast"],
                    f["p_flip_side"], None, None, "", "", f["text"] or w["text"],
                )
            )  # fmt: skip
        if not w["flips"]:
            out.append(
                (g["id"], "", "", "", "", "gräns för målet", status, "", None, None, "", None,
                 None, None, None, None, "", "", w["text"])
            )  # fmt: skip
        for r in g["indicators"]:
            e = r.get("what_it_takes")
            if not e:
                continue
            pub = e.get("publication") or {}
            out.append(
                (
                    g["id"], r["indicator"], r["title"], r["ort"] or "", gender_sv(r["gender"]),
                    _KIND_SV.get(e["kind"], e["kind"]),
                    status_text(r["status"], r["basis"], indicator=True),
                    _SIDE_SV.get(e.get("side", ""), ""), e.get("required"), e.get("known"),
                    e.get("remaining_label", ""), e.get("last_year_same"), e.get("forecast"),
                    e.get("p_met"), e.get("n_achieved"), e.get("n_years"),
                    "ja" if e.get("unprecedented") else "nej" if "unprecedented" in e else "",
                    fmt_date(pub.get("expected")) if pub else "", e["text"],
                )
            )  # fmt: skip
    return out
