"""Render: report sections as HTML fragments in Swedish, for the report notebook's outputs.

Each function gathers what its section says and renders one template of
``ks_analysis/templates/fragments/`` through :mod:`ks_analysis.report.html`, with autoescape on:
every text that comes from a file a person edits (self-assessments, catalogue texts, KPI titles)
shows as text and never runs. Only fragments rendered there (``Markup``) are inserted as HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ks_analysis.periods import Period
from ks_analysis.report.brief import in_brief
from ks_analysis.report.html import Markup, render
from ks_analysis.report.model import GoalEntry, IndicatorRow, Report
from ks_analysis.report.what_it_takes_html import what_it_takes_rules
from ks_analysis.swedish import (
    STATUS_ORDER,
    fmt_date,
    fmt_day_month,
    fmt_number,
    method_sv,
    status_count_sv,
    status_counts_sv,
)

__all__ = [
    "first_screen",
    "table_of_contents",
    "summary_table",
    "goal_section",
    "rules_section",
    "changes_section",
    "method_section",
    "status_badge",
]


def status_badge(status: str, text: str) -> Markup:
    """Status as symbol + text + colour class (never colour alone)."""
    return render("status_badge.html.j2", status=status, text=text)


def first_screen(rep: Report) -> Markup:
    """Title, period, cutoff, the demo-data label and the 'Om rapporten' box."""
    steering = [g for g in rep["goals"] if g["kind"] == "styrande"]
    supporting = [g for g in rep["goals"] if g["kind"] != "styrande"]
    lead = f"Av {len(steering)} styrande mål: {status_counts_sv(_status_counts(steering))}"
    missing = sum(g.get("reason_code") == "assessment_missing" for g in supporting)
    lead_support = f"{len(supporting)} stödjande mål följs upp med självvärdering" + (
        f" ({missing} av dem saknar självvärdering för perioden)" if missing else ""
    )
    return render(
        "first_screen.html.j2",
        rep=rep,
        lead=lead,
        lead_support=lead_support,
        note=(rep.get("vintage") or {}).get("note_sv"),
        brief=in_brief(rep),
    )


def table_of_contents(rep: Report) -> Markup:
    """Links to every section (anchors are stable: #sammanfattning, #mal-1, ...)."""
    return render("table_of_contents.html.j2", goals=rep["goals"], extra=extra_sections(rep))


def extra_sections(rep: Report) -> list[tuple[str, str]]:
    out = [
        ("regler", "Så bedöms målen"),
        ("forandringar", "Förändringar sedan förra prognosen"),
        ("metod", "Metod och källor"),
    ]
    if rep.get("stands_out") is not None:
        out.insert(0, ("sticker-ut", "Resultat som sticker ut"))
    if rep.get("kommunkompassen"):
        out.insert(0, ("kommunkompassen", "Kommunkompassen"))
    if rep.get("last_year_forecasts"):
        out.insert(-1, ("forra-aret", "Förra årets prognoser mot utfallet"))
    return out


def _status_counts(goals: list[GoalEntry]) -> list[tuple[str, str | None, int]]:
    """(status, basis, n) per status in STATUS_ORDER. Outcomes and forecasts are different
    statements, so they are counted apart; a status worded alike on both bases is counted once."""
    out: list[tuple[str, str | None, int]] = []
    for s in STATUS_ORDER:
        apart = status_count_sv(s, "outcome") != status_count_sv(s, "forecast")
        outcome = sum(g["status"] == s and g["basis"] == "outcome" and apart for g in goals)
        other = sum(g["status"] == s for g in goals) - outcome
        out += [(s, "outcome", outcome), (s, "forecast", other)]
    return out


def summary_table(rep: Report) -> Markup:
    """All goals by area, kind, status (symbol + text + colour) and P(met), with counts per status."""
    return render(
        "summary_table.html.j2",
        goals=rep["goals"],
        n_goals=rep["summary"]["n_goals"],
        counts=status_counts_sv(_status_counts(rep["goals"])),
    )


#: Forecast flags a reader must see, in words.
FLAG_SV = {
    "wide_interval": "Mycket osäker prognos: intervallet är brett.",
    "few_calibration_errors": "Det finns få tidigare prognoser av samma slag att jämföra med, så osäkerheten är svår att mäta; intervallet är därför vidgat.",
    "stale_history": "Senaste kända värde är gammalt.",
}


def _quality_text(dq: Mapping[str, Any]) -> str:
    """The data-quality sentence with Swedish numbers and the right singular or plural."""
    n = {k: int(dq.get(k, 0)) for k in ("rows_read", "rows_kept", "rows_not_yet_published", "rows_rejected", "rows_missing", "rows_duplicate")}  # fmt: skip
    rejected = n["rows_rejected"] - n["rows_not_yet_published"]

    def count(x: int, one: str, many: str) -> str:
        return f"{fmt_number(x, 'antal')} {one if x == 1 else many}"

    return (
        f"Datakvalitet: {count(n['rows_read'], 'inläst rad', 'inlästa rader')}, {fmt_number(n['rows_kept'], 'antal')} använda, "
        f"{fmt_number(n['rows_not_yet_published'], 'antal')} ännu inte publicerade vid bedömningsdagen, "
        f"{fmt_number(rejected, 'antal')} avvisade med angiven orsak, {count(n['rows_missing'], 'saknat värde', 'saknade värden')} "
        f"och {count(n['rows_duplicate'], 'dubblett', 'dubbletter')}."
    )


def _known_text(known: int, total: int) -> str:
    """'8 av 12 månader kända', '2 av 4 kvartal kända'."""
    unit = {12: "månader", 4: "kvartal"}.get(total, "perioder")
    return f"{known} av {total} {unit} kända"


def _flag_notes(r: IndicatorRow) -> list[str]:
    """The forecast's flags a reader must see, as sentences (plain text)."""
    notes = [FLAG_SV[f] for f in r.get("flags", []) if f in FLAG_SV]
    notes += [
        f"Senaste kända värde, från {f.removeprefix('latest_of_')}; det gäller tills nästa mätning."
        for f in r.get("flags", [])
        if f.startswith("latest_of_")
    ]
    return notes


def goal_section(g: GoalEntry, extra: Markup | str = "") -> Markup:
    """One goal: ambition, status; indicators, comparisons (steering) or self-assessment (supporting); then ``extra`` (charts, Kommunkompassen).

    ``extra`` is inserted as HTML only when it is ``Markup`` (a rendered fragment); a plain string
    is shown as text.
    """
    rows = g.get("indicators") or []
    return render(
        "goal_section.html.j2",
        g=g,
        rows=[r for r in rows if r.get("ort") is None],
        orter=[r for r in rows if r.get("ort") is not None],
        compared=[r for r in rows if r.get("comparison")],
        extra=extra,
        known_text=_known_text,
        flag_notes=_flag_notes,
        added_text=_added_text,
    )


def _added_text(v: dict[str, Any]) -> str:
    if "indicator" in v:
        return f"{v.get('title', v['indicator'])}: {v.get('value_text', '')}".strip().rstrip(":")
    parts = [
        str(v.get("description", "")),
        v.get("value_text") or f"{v.get('value', '')} {v.get('unit', '')}".strip(),
    ]
    src = f" (källa: {v['source']})" if v.get("source") else ""
    return ": ".join(p for p in parts if p) + src


def rules_section(rep: Report) -> Markup:
    """How an indicator status is set and how indicators roll up to a goal, in words."""
    th = rep["catalogue"]["thresholds"]
    return render(
        "rules_section.html.j2",
        met=round(100 * th["met"]),
        not_met=round(100 * th["not_met"]),
        what_it_takes=what_it_takes_rules(th),
    )


def changes_section(rep: Report) -> Markup:
    """Status moves since the previous forecast of the same year, with reasons."""
    return render("changes_section.html.j2", rep=rep)


def method_section(rep: Report, track_record: dict[str, Any] | None = None) -> Markup:
    """Methods, their backtested accuracy, sources with publication dates, inputs with hashes."""
    methods = sorted(
        {method_sv(r["method"]) for g in rep["goals"] for r in g["indicators"] if r["method"]}
    )
    return render(
        "method_section.html.j2",
        rep=rep,
        methods=methods,
        track_record=track_record_html(track_record) if track_record else "",
        quality=_quality_text(rep.get("data_quality", {})),
        settings=settings_sv(rep),
    )


#: The run's settings as readers see them (the keys stay in report.json's ``parameters``).
_SETTING_SV = {
    "municipality": "kommun",
    "period": "period",
    "as_of": "data publicerade senast",
    "raw": "rådata",
    "sources": "källförteckning",
    "goals": "målkatalog",
    "peers": "jämförelsegrupp",
}


def settings_sv(rep: Report) -> str:
    """The run's settings in Swedish: the date as a date, and the packaged catalogue and demo
    data by what they are rather than by a file name."""
    packaged = any(str(i.get("file")) == "målkatalog (paketets)" for i in rep.get("inputs", []))
    out = []
    for key, value in (rep.get("parameters") or {}).items():
        if key == "peer_group" or value in (None, ""):
            continue
        text = str(value)
        if key == "as_of":
            text = fmt_date(text)
        elif key == "goals" and packaged:
            text = "paketets"
        elif key in ("raw", "sources") and rep.get("demo_data"):
            text = "paketets demodata" if key == "raw" else "demodatans"
        out.append(f"{_SETTING_SV.get(key, key)} {text}")
    return ", ".join(out)


def track_record_html(tr: dict[str, Any]) -> Markup:
    """The backtest's accuracy figures (the package's track record) as a short table."""
    years = tr.get("years")
    texts = tr.get("text_sv") or []
    return render(
        "track_record.html.j2",
        cells=tr.get("cells") or [],
        # Any year gives the cutoffs' day and month.
        cutoff_sv={k: fmt_day_month(Period(2000, k).cutoff) for k in ("T1", "T2", "Y")},
        span=f" ({years[0]}–{years[-1]})" if isinstance(years, list) and years else "",
        texts=texts if isinstance(texts, list) else [texts],
        shock_2020=bool(tr.get("shock_2020")),
    )
