"""Report: the goal follow-up of one period as a plain data structure (the content of report.json).

:func:`build_report` cleans the raw data as known at ``as_of``, forecasts every steering
indicator, judges indicators and goals, compares with the län, riket and the peer group,
describes what changed since the previous forecast of the year, and records provenance. The
notebook ``03-goal-report`` calls it and renders the result; :func:`write_report_json` writes the
sidecar. Everything here is pure apart from reading the raw files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ks_analysis import geo as geo_mod
from ks_analysis.clean import clean_sources
from ks_analysis.errors import ParameterError
from ks_analysis.evaluate.status import indicator_status, p_met, rollup
from ks_analysis.forecast.engine import Forecast, forecast_indicator, yearly_values
from ks_analysis.goals.assessments import load_assessments
from ks_analysis.goals.catalogue import Catalogue, Goal, Indicator, load_catalogue
from ks_analysis.ingest.read import read_sources
from ks_analysis.periods import Period, parse_period
from ks_analysis.report.supporting import enrich_report
from ks_analysis.swedish import fmt_number, status_text

__all__ = [
    "build_report",
    "write_report_json",
    "package_version",
    "ReportInputs",
]


def package_version() -> str:
    try:
        return version("ks-analysis")
    except PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "0+unknown"


@dataclass(frozen=True)
class ReportInputs:
    """Validated parameters of one report run."""

    municipality: str
    period: Period
    as_of: dt.date
    raw: Path
    sources: Path | None
    goals: Path | None
    assessments: Path | None


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_demo(raw: Path, sources: Path | None) -> bool:
    manifest = sources or raw / "sources.yaml"
    try:
        data = yaml.safe_load(Path(manifest).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return False
    return bool(isinstance(data, dict) and data.get("demo"))


def _orter(tidy: pd.DataFrame, indicator: Indicator, municipality: str) -> list[str]:
    prefix = f"{indicator.id}__"
    ids = tidy.loc[
        (tidy["municipality"] == municipality) & tidy["indicator"].str.startswith(prefix),
        "indicator",
    ].unique()
    return sorted(i[len(prefix) :] for i in ids)


def _comparisons(
    tidy: pd.DataFrame,
    indicator: Indicator,
    gender: str,
    municipality: str,
    cat: Catalogue,
    as_of: dt.date,
) -> dict[str, Any] | None:
    """The kommun's latest known year with the same year's value for its län, riket and the peer group.

    The peer group's value is the unweighted mean of its members, as Kolada computes group values.
    Only yearly rates and shares compare; counts of places of different size do not.
    """
    if indicator.per_ort or indicator.unit == "antal" or indicator.frequency != "Y":
        return None
    lan = geo_mod.lan_of(municipality)
    rows = tidy[
        (tidy["indicator"] == indicator.id)
        & (tidy["gender"] == gender)
        & (tidy["published"] <= pd.Timestamp(as_of))
    ]
    if rows.empty:
        return None
    table = rows.pivot_table(
        index="period", columns="municipality", values="value", aggfunc="first"
    )
    if municipality not in table.columns or table[municipality].dropna().empty:
        return None
    year = table[municipality].dropna().index.max()
    at = table.loc[year]
    peers = [m for m in cat.peer_group if m != municipality and m in at.index and pd.notna(at[m])]
    return {
        "year": int(str(year)),
        "kommun": _num(at.get(municipality)),
        "lan": _num(at.get(lan)),
        "lan_name": geo_mod.geo(lan).name,
        "riket": _num(at.get("0000")),
        "peers": _num(float(np.mean([at[m] for m in peers]))) if peers else None,
        "peers_median": _num(float(np.median([at[m] for m in peers]))) if peers else None,
        "peers_n": len(peers),
        "peers_name": cat.peer_group_name,
    }


def _trend(fc: Forecast, indicator: Indicator, mandate_start: int | None) -> dict[str, Any]:
    """Arrows: the forecast (or outcome) against last year and against the mandate period's start."""
    now = _num(fc.point)
    out: dict[str, Any] = {}
    for key, ref_year in (("vs_last_year", fc.last_year), ("vs_mandate_start", mandate_start)):
        ref = (
            _num(fc.history.get(ref_year))
            if ref_year is not None and ref_year in fc.history.index
            else None
        )
        if now is None or ref is None or ref_year is None:
            out[key] = None
            continue
        diff = now - ref
        tol = 1e-9 + 0.005 * abs(ref)
        direction = "up" if diff > tol else "down" if diff < -tol else "flat"
        better = None if direction == "flat" else (direction == "up") == indicator.higher_is_better
        out[key] = {
            "year": int(ref_year),
            "reference": ref,
            "change": diff,
            "direction": direction,
            "better": better,
        }  # type: ignore[arg-type]
    return out


def _indicator_row(
    goal: Goal,
    ind: Indicator,
    gender: str,
    fc: Forecast,
    p: float | None,
    thresholds: dict[str, float],
    label: str | None,
    cmp: dict[str, Any] | None,
    mandate_start: int | None,
) -> dict[str, Any]:
    status = indicator_status(p, thresholds) if fc.basis != "none" else "not_assessable"
    basis = None if fc.basis == "none" else "outcome" if fc.basis == "outcome" else "forecast"
    return {
        "indicator": ind.id if label is None else f"{ind.id}__{label}",
        "base_indicator": ind.id,
        "ort": label,
        "title": ind.title,
        "gender": gender,
        "role": ind.role,
        "unit": ind.unit,
        "direction": ind.direction,
        "aggregation": ind.aggregation,
        "frequency": ind.frequency,
        "target": ind.target.describe_sv(ind.unit, ind.direction),
        "target_type": ind.target.type,
        "target_value": ind.target.value,
        "last_value": _num(fc.last_value),
        "last_year": fc.last_year,
        "known_value": _num(fc.known_value),
        "known_periods": fc.known_periods,
        "total_periods": fc.total_periods,
        "forecast": _num(fc.point),
        "lo80": _num(fc.lo80),
        "hi80": _num(fc.hi80),
        "lo95": _num(fc.lo95),
        "hi95": _num(fc.hi95),
        "p_met": _num(p),
        "status": status,
        "status_text": status_text(status, basis),
        "basis": basis,
        "method": fc.method,
        "rung": fc.rung,
        "flags": list(fc.flags),
        "reference_year": getattr(fc, "reference_year", None),
        "history": {int(str(y)): _num(v) for y, v in fc.history.items()},
        "comparison": cmp,
        "trend": _trend(fc, ind, mandate_start),
        "series_break": ind.series_break,
        "valid_from": ind.valid_from,
        "valid_to": ind.valid_to,
        "successor": ind.successor,
        "predecessor": ind.predecessor,
    }


def _evaluate_goals(
    tidy: pd.DataFrame,
    cat: Catalogue,
    municipality: str,
    period: Period,
    as_of: dt.date,
    assessments: dict[int, Any],
    assessment_note: str | None,
) -> list[dict[str, Any]]:
    """Every goal with its indicators, statuses and P(met) at ``period`` as known at ``as_of``."""
    goals_out = []
    year = period.year
    for goal in cat.goals:
        g: dict[str, Any] = {
            "id": goal.id,
            "area": goal.area_title,
            "title": goal.title,
            "kind": goal.kind,
            "ambition": goal.ambition,
            "steering_documents": list(goal.steering_documents),
            "rollup": goal.rollup,
            "indicators": [],
        }
        if not goal.is_steering:
            a = assessments.get(goal.id)
            if a is None:
                g.update(
                    status="not_assessable",
                    basis=None,
                    p_met=None,
                    reason=assessment_note or "Självvärdering saknas för målet.",
                    assessment=None,
                )
            else:
                g.update(
                    status="no_forecast",
                    basis=None,
                    p_met=None,
                    reason="Stödjande mål följs upp med självvärdering; ingen prognos görs.",
                    assessment={
                        "text": a.text,
                        "direction": a.direction,
                        "direction_text": a.direction_sv,
                        "activities": list(a.activities),
                        "author": a.author,
                        "date": a.date.isoformat() if a.date else None,
                        "added_values": [dict(v) for v in a.added_values],
                    },
                )
            g["status_text"] = status_text(g["status"], None)
            goals_out.append(g)
            continue
        signals: dict[str, Forecast] = {}
        per_indicator_p: list[float | None] = []
        per_indicator_status: list[str] = []
        bases: list[str] = []
        # Signals first, so annual indicators can lean on their in-year proxy.
        ordered = sorted(goal.indicators, key=lambda i: 0 if i.role == "signal" else 1)
        rows_by_ind: dict[str, list[dict[str, Any]]] = {}
        for ind in ordered:
            if (
                ind.valid_to is not None
                and year > ind.valid_to
                or ind.valid_from is not None
                and year < ind.valid_from
            ):
                continue  # outside the indicator's life (a series break); its successor/predecessor reports instead
            rows: list[dict[str, Any]] = []
            for gender in ind.genders:
                if ind.per_ort and ind.target.scope == "every_ort":
                    orter = _orter(tidy, ind, municipality)
                    ps = []
                    for ort in orter:
                        fc = forecast_indicator(
                            tidy,
                            municipality=municipality,
                            indicator=ind,
                            gender=gender,
                            year=year,
                            cutoff=period.cutoff,
                            as_of=as_of,
                            ort=ort,
                        )
                        p = p_met(fc, ind)
                        ps.append(p)
                        rows.append(
                            _indicator_row(
                                goal,
                                ind,
                                gender,
                                fc,
                                p,
                                cat.thresholds,
                                ort,
                                None,
                                cat.mandate_start_year,
                            )
                        )
                    known_ps = [p for p in ps if p is not None]
                    if orter and len(known_ps) == len(ps):
                        # Every ort must reach the target: the probability that all do (independent orter).
                        ort_rows = rows[-len(orter) :]
                        ort_bases = {r["basis"] for r in ort_rows}
                        rows.append(
                            {
                                **rows[-1],
                                "indicator": ind.id,
                                "ort": None,
                                "p_met": float(np.prod(known_ps)),
                                "summary_of_orter": True,
                                "trend": {},
                                "comparison": None,
                                "flags": [],
                            }
                        )
                        rows[-1]["basis"] = "outcome" if ort_bases == {"outcome"} else "forecast"
                        rows[-1]["status"] = indicator_status(rows[-1]["p_met"], cat.thresholds)
                        rows[-1]["status_text"] = status_text(rows[-1]["status"], rows[-1]["basis"])
                        for k in (
                            "forecast",
                            "lo80",
                            "hi80",
                            "lo95",
                            "hi95",
                            "last_value",
                            "known_value",
                        ):
                            rows[-1][k] = None
                        rows[-1]["history"] = {}
                        rows[-1]["method"] = "alla orter"
                    continue
                signal = signals.get(ind.signal) if ind.signal else None
                fc = forecast_indicator(
                    tidy,
                    municipality=municipality,
                    indicator=ind,
                    gender=gender,
                    year=year,
                    cutoff=period.cutoff,
                    as_of=as_of,
                    signal=signal,
                )
                if ind.role == "signal" and gender == "T":
                    signals[ind.id] = fc
                reference = None
                if ind.target.type == "better_than":
                    cmp_ref = _comparisons(tidy, ind, gender, municipality, cat, as_of) or {}
                    # The reference's latest known value stands for its value this year (a naive forecast of it).
                    reference = {
                        "lan": cmp_ref.get("lan"),
                        "riket": cmp_ref.get("riket"),
                        "peer_median": cmp_ref.get("peers_median"),
                        "peer_mean": cmp_ref.get("peers"),
                    }.get(ind.target.reference)
                p = p_met(fc, ind, reference)
                cmp = _comparisons(tidy, ind, gender, municipality, cat, as_of)
                row = _indicator_row(
                    goal, ind, gender, fc, p, cat.thresholds, None, cmp, cat.mandate_start_year
                )
                if ind.predecessor:
                    # The old series is shown beside the new one, never joined to it (a series break).
                    try:
                        old = cat.indicator(ind.predecessor)
                    except KeyError:
                        old = None
                    if old is not None:
                        past = yearly_values(
                            tidy,
                            municipality=municipality,
                            indicator=old,
                            gender=gender,
                            as_of=as_of,
                        )
                        row["predecessor_history"] = {int(str(y)): _num(v) for y, v in past.items()}
                        row["predecessor_title"] = old.title
                        row["predecessor_id"] = old.id
                rows.append(row)
            rows_by_ind[ind.id] = rows
        for ind in goal.indicators:
            rows = rows_by_ind.get(ind.id, [])
            g["indicators"].extend(rows)
            if ind.role != "target" or not rows:
                continue
            summary = [r for r in rows if r.get("summary_of_orter")] or [
                r for r in rows if r["ort"] is None
            ]
            p_ind = _indicator_vote(summary)
            per_indicator_p.append(p_ind)
            per_indicator_status.append(
                indicator_status(p_ind, cat.thresholds) if p_ind is not None else "not_assessable"
            )
            bases.extend(r["basis"] for r in summary if r["basis"])
        status, p_goal = rollup(goal.rollup, per_indicator_p, per_indicator_status, cat.thresholds)
        basis = "outcome" if bases and all(b == "outcome" for b in bases) else "forecast"
        g.update(
            status=status,
            basis=basis,
            p_met=_num(p_goal),
            status_text=status_text(status, basis),
            reason=_rollup_reason(goal, per_indicator_p),
        )
        goals_out.append(g)
    return goals_out


def _indicator_vote(rows: list[dict[str, Any]]) -> float | None:
    """One indicator's P in the goal's roll-up: women and men with equal weight where the indicator is
    split (the total is shown but not counted again), else the total."""
    by_gender = {r["gender"]: r["p_met"] for r in rows if r["p_met"] is not None}
    if "K" in by_gender and "M" in by_gender:
        return float(np.mean([by_gender["K"], by_gender["M"]]))
    if "T" in by_gender:
        return float(by_gender["T"])
    return float(np.mean(list(by_gender.values()))) if by_gender else None


def _rollup_reason(goal: Goal, ps: list[float | None]) -> str:
    n = sum(p is not None for p in ps)
    rule = {
        "mean_p": "medelvärdet av målindikatorernas P(uppfyllt)",
        "all_met": "sannolikheten att alla målindikatorer uppfylls",
        "min_p": "den lägsta P(uppfyllt) bland målindikatorerna",
    }[goal.rollup]
    return f"Målets status bygger på {rule} ({n} av {len(ps)} målindikatorer med prognos)."


def _changes(
    current: list[dict[str, Any]], previous: list[dict[str, Any]] | None, prev_period: Period | None
) -> list[dict[str, Any]]:
    """Status moves since the previous forecast of the same year, with a reason for each."""
    if previous is None or prev_period is None:
        return []
    prev_goals = {g["id"]: g for g in previous}
    out = []
    for g in current:
        pg = prev_goals.get(g["id"])
        if pg is None:
            continue
        prev_rows = {(r["indicator"], r["gender"]): r for r in pg["indicators"]}
        reasons = []
        for r in g["indicators"]:
            pr = prev_rows.get((r["indicator"], r["gender"]))
            if pr is None or r["role"] != "target":
                continue
            moved = pr["status"] != r["status"]
            dp = None if r["p_met"] is None or pr["p_met"] is None else r["p_met"] - pr["p_met"]
            if not moved and (dp is None or abs(dp) < 0.15):
                continue
            why = []
            if r["known_periods"] != pr["known_periods"]:
                why.append(
                    f"fler perioder kända ({pr['known_periods']} → {r['known_periods']} av {r['total_periods']})"
                )
            if r["basis"] != pr["basis"]:
                why.append("utfall i stället för prognos")
            if (
                pr["forecast"] is not None
                and r["forecast"] is not None
                and pr["forecast"] != r["forecast"]
            ):
                why.append(
                    f"prognosen ändrad {fmt_number(pr['forecast'], r['unit'])} → {fmt_number(r['forecast'], r['unit'])}"
                )
            if r["last_value"] != pr["last_value"]:
                why.append("jämförelseårets värde har publicerats eller reviderats")
            reasons.append(
                {
                    "indicator": r["indicator"],
                    "gender": r["gender"],
                    "title": r["title"],
                    "from_status": pr["status"],
                    "to_status": r["status"],
                    "from_text": pr["status_text"],
                    "to_text": r["status_text"],
                    "from_p": pr["p_met"],
                    "to_p": r["p_met"],
                    "reason": "; ".join(why) or "ny information i data",
                }
            )
        if pg["status"] != g["status"] or reasons:
            out.append(
                {
                    "goal": g["id"],
                    "title": g["title"],
                    "from_status": pg["status"],
                    "to_status": g["status"],
                    "from_text": pg.get("status_text"),
                    "to_text": g.get("status_text"),
                    "from_p": pg.get("p_met"),
                    "to_p": g.get("p_met"),
                    "since": prev_period.id,
                    "indicators": reasons,
                }
            )
    return out


def _provenance(
    tidy: pd.DataFrame, cat: Catalogue, municipality: str, as_of: dt.date
) -> list[dict[str, Any]]:
    """Per indicator: source, latest period known at as_of and when it was published."""
    out: list[dict[str, Any]] = []
    ids = {i.id for _, i in cat.indicators()}
    base = tidy["indicator"].str.split("__").str[0]
    mine = tidy[
        (tidy["municipality"] == municipality)
        & base.isin(ids)
        & (tidy["published"] <= pd.Timestamp(as_of))
    ]
    if mine.empty:
        return out
    for (ind, source), grp in mine.assign(base=base[mine.index]).groupby(["base", "source"]):
        latest = grp.sort_values("period_end").iloc[-1]
        out.append(
            {
                "indicator": ind,
                "source": source,
                "latest_period": str(latest["period"]),
                "latest_published": pd.Timestamp(latest["published"]).date().isoformat(),
                "files": sorted(grp["source_file"].unique().tolist()),
                "rows_used": int(len(grp)),
            }
        )
    return out


def build_report(
    period: str | Period,
    *,
    municipality: str = "0665",
    raw: Path,
    sources: Path | None = None,
    goals: Path | None = None,
    assessments: Path | None = None,
    as_of: dt.date | str | None = None,
    peers: list[str] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Build the whole report of one period as a JSON-able dict (see architecture.md, report.json).

    Args:
        period: e.g. ``"2019-T1"``.
        municipality: Kolada code of the kommun reported on.
        raw: raw data folder (read only); ``sources`` its manifest (default ``raw/sources.yaml``).
        goals: goal catalogue YAML (default: the packaged KS mål 2019).
        assessments: folder with ``<period>.yaml`` self-assessments (default ``raw/assessments``).
        as_of: the data vintage (default: the period's cutoff).
        peers: Kolada codes of the peer group (default: the catalogue's group).

    Returns:
        The report content; ``goals`` holds one entry per goal with its indicators.
    """
    per = period if isinstance(period, Period) else parse_period(period)
    as_of_d = (
        per.cutoff
        if as_of in (None, "")
        else as_of
        if isinstance(as_of, dt.date)
        else dt.date.fromisoformat(str(as_of))
    )
    if as_of_d < per.cutoff:
        raise ParameterError(
            f"--as-of {as_of_d.isoformat()} is before the cutoff of {per.id} ({per.cutoff.isoformat()}); a report uses what was published by its cutoff or later"
        )
    municipality = str(municipality).zfill(4)
    raw = Path(raw)
    cat = load_catalogue(goals)
    cat = _with_peers(cat, municipality, peers)
    assessments_dir = Path(assessments) if assessments else raw / "assessments"
    supporting = [g.id for g in cat.goals if not g.is_steering]
    own = (
        municipality == cat.municipality
    )  # self-assessments and registers belong to the catalogue's kommun

    raw_rows, specs, files_info = read_sources(raw, sources, progress=progress)
    clean = clean_sources(raw_rows, specs, files_info, as_of=as_of_d)
    tidy = clean.tidy
    a_now, note_now = _assessments_for(assessments_dir, per.id, supporting, own, cat, municipality)
    goals_now = _evaluate_goals(tidy, cat, municipality, per, as_of_d, a_now, note_now)

    prev = per.previous()
    goals_prev = None
    if prev is not None:
        # The previous forecast as it was made: its own cutoff, never later than this report's vintage.
        prev_as_of = min(as_of_d, prev.cutoff)
        clean_prev = clean_sources(raw_rows, specs, files_info, as_of=prev_as_of)
        a_prev, note_prev = _assessments_for(
            assessments_dir, prev.id, supporting, own, cat, municipality
        )
        goals_prev = _evaluate_goals(
            clean_prev.tidy, cat, municipality, prev, prev_as_of, a_prev, note_prev
        )

    extras = enrich_report(
        tidy=tidy,
        catalogue=cat,
        municipality=municipality,
        period=per,
        as_of=as_of_d,
        raw=raw,
        goals=goals_now,
    )
    counts: dict[str, int] = {}
    counts_by_basis: dict[str, int] = {}
    for g in goals_now:
        counts[g["status"]] = counts.get(g["status"], 0) + 1
        key = f"{g['status']}|{g['basis']}" if g["basis"] else g["status"]
        counts_by_basis[key] = counts_by_basis.get(key, 0) + 1
    inputs = [
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
    inputs.append({"file": f"goal catalogue: {cat.path.name}", "sha256": _sha256(cat.path)})
    for pid in [per.id] + ([prev.id] if prev else []):
        for p in sorted(assessments_dir.glob(f"{pid}.yaml")):
            inputs.append({"file": f"assessments/{p.name}", "sha256": _sha256(p)})
    not_yet = (
        int(clean.rejected["reason"].astype("str").str.startswith("published after").sum())
        if len(clean.rejected)
        else 0
    )
    quality = {**clean.manifest()["totals"], "rows_not_yet_published": not_yet}
    return {
        "municipality": municipality,
        "municipality_name": geo_mod.geo(municipality).name,
        "period": per.id,
        "period_name": per.name_sv,
        "cutoff": per.cutoff.isoformat(),
        "as_of": as_of_d.isoformat(),
        "generated": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "package_version": package_version(),
        "parameters": {
            "municipality": municipality,
            "period": per.id,
            "as_of": as_of_d.isoformat(),
            "raw": raw.name if raw.is_absolute() else str(raw),
            "sources": str(sources.name) if sources else "sources.yaml",
            "goals": cat.path.name,
            "peer_group": list(cat.peer_group),
        },
        "inputs": inputs,
        "demo_data": _is_demo(raw, sources),
        "catalogue": {
            "name": cat.name,
            "decision": cat.decision,
            "thresholds": cat.thresholds,
            "peer_group_name": cat.peer_group_name,
            "peer_group": list(cat.peer_group),
        },
        "summary": {
            "counts": counts,
            "counts_by_basis": counts_by_basis,
            "n_goals": len(goals_now),
        },
        "goals": goals_now,
        "previous_period": prev.id if prev else None,
        "changes": _changes(goals_now, goals_prev, prev),
        "provenance": _provenance(tidy, cat, municipality, as_of_d),
        "data_quality": quality,
        **extras,
    }


def write_report_json(report: dict[str, Any], path: Path) -> Path:
    """Write the sidecar ``report.json`` (UTF-8, indented) atomically: a temporary file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _with_peers(cat: Catalogue, municipality: str, peers: list[str] | None) -> Catalogue:
    """The catalogue with the peer group to use: ``peers`` if given (checked), the catalogue's for its
    own kommun, else the other kommuner of the kommun's län."""
    if peers:
        codes = []
        for p in peers:
            code = str(p).strip()
            if (
                not (code.isdigit() and len(code) == 4)
                or code not in geo_mod.geos()
                or geo_mod.geo(code).type != "K"
            ):
                raise ParameterError(f"--peers: {p!r} is not a kommun code (4 digits, e.g. 0604)")
            if code != municipality:
                codes.append(code)
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


def _assessments_for(
    folder: Path, period_id: str, goal_ids: list[int], own: bool, cat: Catalogue, municipality: str
) -> tuple[dict[int, Any], str | None]:
    """Self-assessments of the period; they are the catalogue kommun's own, so another kommun gets none."""
    if not own:
        return {}, (
            f"Självvärderingarna gäller {geo_mod.geo(cat.municipality).name}s kommun; "
            f"för {geo_mod.geo(municipality).name} finns ingen självvärdering."
        )
    return load_assessments(folder, period_id, goal_ids)
