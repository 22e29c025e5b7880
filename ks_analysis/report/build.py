"""Report: the goal follow-up of one period as a plain data structure (the content of report.json).

:func:`build_report` forecasts every steering indicator, judges indicators and goals, compares
with the län, riket and the peer group, describes what changed since the previous forecast of
the year, and records provenance. It is pure: everything it reads was loaded at the edge into
:class:`~ks_analysis.report.inputs.ReportInputs` (:func:`load_report_inputs`). The notebook
``03-goal-report`` builds it through :mod:`ks_analysis.notebook_api` and renders the result;
:func:`write_report_json` writes the sidecar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis import geo as geo_mod
from ks_analysis.clean import CleanResult
from ks_analysis.evaluate.standout import StandOutRules
from ks_analysis.forecast.series import unchanged
from ks_analysis.goals.catalogue import Catalogue
from ks_analysis.goals.kommunkompassen import kommunkompassen_for_goal, kommunkompassen_overview
from ks_analysis.report.changes import changes_since
from ks_analysis.report.followup import (
    attach_analyses,
    last_year_forecasts,
    supporting_indicators,
)
from ks_analysis.report.goals import judge_goals
from ks_analysis.report.inputs import ReportInputs, load_report_inputs, package_version
from ks_analysis.report.model import (
    GoalEntry,
    InputFile,
    Provenance,
    Report,
    StandOutRulesInfo,
    Summary,
)
from ks_analysis.report.sidecar import write_report_json
from ks_analysis.report.supporting import resolve_added_values, stands_out_for_report
from ks_analysis.swedish import fmt_number

__all__ = [
    "build_report",
    "write_report_json",
    "load_report_inputs",
    "package_version",
    "ReportInputs",
    "Report",
    "with_peers",
]


def _provenance(tidy: pd.DataFrame, cat: Catalogue, municipality: str) -> list[Provenance]:
    """Per indicator: source, latest period known at the vintage and when it was published."""
    out: list[Provenance] = []
    ids = {i.id for _, i in cat.indicators()}
    # The catalogue id of every row (per-ort ids are id__ort), worked out per distinct id.
    codes, distinct = pd.factorize(tidy["indicator"].to_numpy(dtype=object), use_na_sentinel=False)
    base_of = np.asarray([str(d).split("__")[0] for d in distinct], dtype=object)
    keep = (tidy["municipality"] == municipality).to_numpy() & np.isin(base_of, list(ids))[codes]
    mine = tidy[keep]
    if mine.empty:
        return out
    for (ind, source), grp in mine.assign(base=base_of[codes[keep]]).groupby(["base", "source"]):
        latest = grp.sort_values("period_end").iloc[-1]
        out.append(
            {
                "indicator": str(ind),
                "source": str(source),
                "latest_period": str(latest["period"]),
                "latest_published": pd.Timestamp(latest["published"]).date().isoformat(),
                "published_basis": str(latest.get("published_basis", "rule")),
                "files": sorted(grp["source_file"].unique().tolist()),
                "rows_used": int(len(grp)),
            }
        )
    return out


def with_peers(cat: Catalogue, municipality: str, peers: tuple[str, ...] | None) -> Catalogue:
    """The catalogue with the peer group to use: ``peers`` if given (already checked), the
    catalogue's for its own kommun, else the other kommuner of the kommun's län."""
    if peers:
        codes = [c for c in peers if c != municipality]
        return replace(
            cat,
            peer_group=tuple(dict.fromkeys(codes)),
            peer_group_name=f"Vald jämförelsegrupp ({len(codes)} {'kommun' if len(codes) == 1 else 'kommuner'})",
        )
    if municipality == cat.municipality:
        return replace(cat, peer_group=tuple(m for m in cat.peer_group if m != municipality))
    lan = geo_mod.lan_of(municipality)
    others = tuple(k for k in geo_mod.kommuner_in_lan(lan) if k != municipality)
    return replace(
        cat, peer_group=others, peer_group_name=f"Övriga kommuner i {geo_mod.geo(lan).name}"
    )


def _additions(
    inputs: ReportInputs, cat: Catalogue, goals: list[GoalEntry]
) -> tuple[list[dict[str, Any]], StandOutRulesInfo]:
    """Supporting-goal values, Kommunkompassen and the results that stand out; ``goals`` extended in place.

    - supporting goals: ``assessment.added_values`` with indicator ids resolved to value and period;
    - goals mapped to Kommunkompassen areas: ``kommunkompassen`` (latest and previous evaluation);
    - the report: ``stands_out`` (every flag, strongest first) and ``stands_out_rules``.
    """
    tidy, per, as_of = inputs.current.clean.tidy, inputs.params.period, inputs.params.as_of
    municipality = inputs.params.municipality
    titles = {**inputs.titles, **{i.id: i.title for _, i in cat.indicators()}}
    mapping = {g.id: g.kommunkompassen for g in cat.goals}
    for g in goals:
        a = g.get("assessment")
        if a and a.get("added_values"):
            a["added_values"] = resolve_added_values(
                a["added_values"],
                tidy=tidy,
                municipality=municipality,
                as_of=as_of,
                titles=titles,
                source_file=f"{per.id}.yaml",
                goal=g["id"],
            )
        areas = mapping.get(g["id"], ())
        # The register holds the catalogue kommun's own evaluations; the year of an evaluation
        # is all it says, so one of the report year counts as known only in the full-year report.
        if areas and municipality == cat.municipality:
            g["kommunkompassen"] = kommunkompassen_for_goal(
                areas, list(inputs.evaluations), per.year if per.is_full_year else per.year - 1
            )
    rules = StandOutRules()
    flags = stands_out_for_report(tidy, cat, municipality, as_of, titles, per.year, rules)
    for g in goals:
        related = [f for f in flags if f.get("related_goal") == g["id"]]
        if g["id"] == 6:
            related = [f for f in related if f["gender"] != "T"] or related
        if related:
            g["stands_out"] = related[:3]
    lan = geo_mod.lan_of(municipality)
    peers = list(cat.peer_group) or [c for c in geo_mod.kommuner_in_lan(lan) if c != municipality]
    return flags, {
        "k": rules.k,
        "trend_k": rules.trend_k,
        "gap_k": rules.gap_k,
        "min_peers": rules.min_peers,
        "peers": peers,
        "peers_name": cat.peer_group_name or f"Övriga kommuner i {geo_mod.geo(lan).name}",
    }


def _kommunkompassen(inputs: ReportInputs, cat: Catalogue) -> dict[str, Any] | None:
    """The report's one Kommunkompassen section (the catalogue kommun's own register only)."""
    per = inputs.params.period
    if inputs.params.municipality != cat.municipality:
        return None
    goals_of_area: dict[str, list[int]] = {}
    for g in cat.goals:
        for area in g.kommunkompassen:
            goals_of_area.setdefault(area, []).append(g.id)
    # As per goal: an evaluation of the report year counts as known only in the full-year report.
    up_to = per.year if per.is_full_year else per.year - 1
    return kommunkompassen_overview(list(inputs.evaluations), up_to, goals_of_area)


def _summary(goals: list[GoalEntry]) -> Summary:
    """Goal counts per status and per status and basis."""
    counts: dict[str, int] = {}
    counts_by_basis: dict[str, int] = {}
    for g in goals:
        counts[g["status"]] = counts.get(g["status"], 0) + 1
        key = f"{g['status']}|{g['basis']}" if g["basis"] else g["status"]
        counts_by_basis[key] = counts_by_basis.get(key, 0) + 1
    return {"counts": counts, "counts_by_basis": counts_by_basis, "n_goals": len(goals)}


def _input_files(clean: CleanResult, cited: tuple[InputFile, ...]) -> list[InputFile]:
    """The raw files read (with row counts and hashes), then the catalogue and assessment files."""
    files: list[InputFile] = [
        {
            "file": i["file"],
            "sha256": i["sha256"],
            "reader": i["reader"],
            "rows_read": i["rows_read"],
            "rows_kept": i["rows_kept"],
            "rows_rejected": i["rows_rejected"],
            "rows_missing": i["rows_missing"],
            "rows_duplicate": i["rows_duplicate"],
        }
        for i in clean.inputs
    ]
    return files + list(cited)


def _vintage(tidy: pd.DataFrame, not_yet_published: int) -> dict[str, Any]:
    """What the report can say about the vintage of its values.

    Rows dated by a publication-lag rule carry the value the file held when it was fetched, not
    necessarily the value first published. When the files also hold values published after the
    report's vintage, they were fetched later, so the values may be later revisions.
    """
    basis = (
        tidy["published_basis"]
        if "published_basis" in tidy
        else pd.Series("rule", index=tidy.index)
    )
    share = float((basis.astype("str") == "rule").mean()) if len(tidy) else 0.0
    later = share > 0 and not_yet_published > 0
    return {
        "rule_dated_share": share,
        "files_fetched_later": later,
        "note_sv": (
            "Värdena är källornas senare reviderade siffror: filerna hämtades efter brytpunkten "
            f"och innehåller {fmt_number(not_yet_published, 'antal')} värden som publicerades senare. "
            "Publiceringsdatumen är beräknade med en regel per källa, så rapporten visar inte exakt "
            "vad som var känt vid brytpunkten."
            if later
            else None
        ),
    }


def _data_quality(clean: CleanResult) -> dict[str, int]:
    """Clean's row totals and how many rows were left out as published after the vintage."""
    rejected = clean.rejected
    not_yet = (
        int(rejected["reason"].astype("str").str.startswith("published after").sum())
        if len(rejected)
        else 0
    )
    return {**clean.manifest()["totals"], "rows_not_yet_published": not_yet}


def _judge(inputs: ReportInputs, cat: Catalogue, previous: bool) -> list[GoalEntry] | None:
    """The goals judged for the current (or the previous) period, each with its own vintage."""
    data = inputs.previous if previous else inputs.current
    if data is None:
        return None
    return judge_goals(
        data.clean.tidy,
        cat,
        inputs.params.municipality,
        data.period,
        data.as_of,
        data.assessments,
        data.assessment_note,
        what_it_takes=not previous,
    )


def build_report(
    inputs: ReportInputs, on_judged: Callable[[list[GoalEntry]], None] | None = None
) -> Report:
    """Build the whole report of one period (report.json, see architecture.md); pure, no I/O.

    Args:
        on_judged: called with the period's goals as soon as they are judged, before the rest
            of the report (the previous period, last year's verdicts, the stand-outs) is built,
            so that their charts can be drawn meanwhile elsewhere; it must not change them.

    Returns:
        The report content; ``goals`` holds one entry per goal with its indicators.
    """
    with unchanged(inputs.current.clean.tidy):  # read, never changed, while the report is built
        return _build_report(inputs, on_judged)


def _build_report(
    inputs: ReportInputs, on_judged: Callable[[list[GoalEntry]], None] | None
) -> Report:
    """:func:`build_report`'s work, with its vintage's index looked up once."""
    params = inputs.params
    per, municipality, as_of = params.period, params.municipality, params.as_of
    cat = with_peers(inputs.catalogue, municipality, params.peers)
    goals_now = _judge(inputs, cat, previous=False) or []
    if on_judged is not None:
        on_judged(goals_now)
    goals_prev = _judge(inputs, cat, previous=True)
    prev = inputs.previous.period if inputs.previous else None
    stands_out, stands_out_rules = _additions(inputs, cat, goals_now)
    attach_analyses(goals_now, inputs.current.analyses)
    supporting_indicators(inputs.current.clean.tidy, cat, municipality, goals_now)
    raw, sources = params.raw, params.sources
    return {
        "municipality": municipality,
        "municipality_name": geo_mod.geo(municipality).name,
        "period": per.id,
        "period_name": per.name_sv,
        "cutoff": per.cutoff.isoformat(),
        "as_of": as_of.isoformat(),
        "generated": inputs.generated,
        "package_version": inputs.package_version,
        "parameters": {
            "municipality": municipality,
            "period": per.id,
            "as_of": as_of.isoformat(),
            "raw": raw.name if raw.is_absolute() else str(raw),
            "sources": str(sources.name) if sources else "sources.yaml",
            "goals": cat.path.name,
            "peer_group": list(cat.peer_group),
        },
        "inputs": _input_files(inputs.current.clean, inputs.cited_files),
        "demo_data": inputs.demo_data,
        "catalogue": {
            "name": cat.name,
            "decision": cat.decision,
            "thresholds": cat.thresholds,
            "peer_group_name": cat.peer_group_name,
            "peer_group": list(cat.peer_group),
        },
        "summary": _summary(goals_now),
        "goals": goals_now,
        "previous_period": prev.id if prev else None,
        "changes": changes_since(goals_now, goals_prev, prev),
        "provenance": _provenance(inputs.current.clean.tidy, cat, municipality),
        "data_quality": (dq := _data_quality(inputs.current.clean)),
        "vintage": _vintage(inputs.current.clean.tidy, dq["rows_not_yet_published"]),
        "stands_out": stands_out,
        "stands_out_rules": stands_out_rules,
        "kommunkompassen": _kommunkompassen(inputs, cat),
        "last_year_forecasts": last_year_forecasts(
            inputs.current.clean.tidy, cat, municipality, per, as_of
        ),
    }
