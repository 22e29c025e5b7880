"""What changed since the previous forecast of the same year, with a reason for each move (pure)."""

from __future__ import annotations

from ks_analysis.periods import Period
from ks_analysis.report.model import GoalChange, GoalEntry, IndicatorChange, IndicatorRow
from ks_analysis.swedish import fmt_number

__all__ = ["changes_since"]


def _why(r: IndicatorRow, pr: IndicatorRow) -> str:
    """The reasons an indicator moved, in Swedish, or 'ny information i data'."""
    why = []
    if r["known_periods"] != pr["known_periods"]:
        why.append(
            f"fler perioder kända ({pr['known_periods']} → {r['known_periods']} av {r['total_periods']})"
        )
    if r["basis"] != pr["basis"]:
        why.append("utfall i stället för prognos")
    if pr["forecast"] is not None and r["forecast"] is not None and pr["forecast"] != r["forecast"]:
        why.append(
            f"prognosen ändrad {fmt_number(pr['forecast'], r['unit'])} → {fmt_number(r['forecast'], r['unit'])}"
        )
    if r["last_value"] != pr["last_value"]:
        why.append("jämförelseårets värde har publicerats eller reviderats")
    return "; ".join(why) or "ny information i data"


def _indicator_changes(g: GoalEntry, pg: GoalEntry) -> list[IndicatorChange]:
    """Target indicators whose status moved or whose P(met) moved by 0.15 or more."""
    prev_rows = {(r["indicator"], r["gender"]): r for r in pg["indicators"]}
    reasons: list[IndicatorChange] = []
    for r in g["indicators"]:
        pr = prev_rows.get((r["indicator"], r["gender"]))
        if pr is None or r["role"] != "target":
            continue
        moved = pr["status"] != r["status"]
        dp = None if r["p_met"] is None or pr["p_met"] is None else r["p_met"] - pr["p_met"]
        if not moved and (dp is None or abs(dp) < 0.15):
            continue
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
                "reason": _why(r, pr),
            }
        )
    return reasons


def changes_since(
    current: list[GoalEntry],
    previous: list[GoalEntry] | None,
    prev_period: Period | None,
) -> list[GoalChange]:
    """Status moves since the previous forecast of the same year, with a reason for each."""
    if previous is None or prev_period is None:
        return []
    prev_goals = {g["id"]: g for g in previous}
    out: list[GoalChange] = []
    for g in current:
        pg = prev_goals.get(g["id"])
        if pg is None:
            continue
        reasons = _indicator_changes(g, pg)
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
