"""'I korthet': the report's first screen, every goal with its verdict and one sentence of why.

The sentence is generated from the report model only (no new numbers): for a steering goal, the
count of its target indicators per status and the one that decides most (the weakest, or the
one that cannot be assessed); for a supporting goal, its self-assessment's direction.
"""

from __future__ import annotations

from ks_analysis.report.html import Markup, render
from ks_analysis.report.model import GoalEntry, IndicatorRow, Report
from ks_analysis.report.what_it_takes import short_title
from ks_analysis.report.what_it_takes_html import what_it_takes_brief
from ks_analysis.swedish import fmt_number, fmt_percent

__all__ = ["in_brief", "p_sentence", "p_words", "why_sentence"]


def p_words(p: float | None, thresholds: dict[str, float]) -> str:
    """P with its plain word: '82 % (troligt)', '50 % (osäkert)', '12 % (osannolikt)'."""
    if p is None:
        return ""
    word = (
        "troligt"
        if p >= thresholds.get("met", 0.75)
        else "osannolikt"
        if p <= thresholds.get("not_met", 0.25)
        else "osäkert"
    )
    return f"{fmt_percent(p)} ({word})"


def p_sentence(goal: GoalEntry, thresholds: dict[str, float]) -> str:
    """The goal's P as a sentence of the 'I korthet' list, '' at outcome basis or without a P.

    A partly met goal's P is that of the whole goal's rule: 'delvis' and 'osannolikt' side by
    side would read as a contradiction, so the sentence says what the P is of."""
    if goal["basis"] == "outcome" or goal["p_met"] is None:
        return ""
    if goal["status"] == "partly_met":
        return f"Sannolikheten att hela målet nås: {fmt_percent(goal['p_met'])}. "
    return f"Sannolikheten att målet nås: {p_words(goal['p_met'], thresholds)}. "


def _movement(r: IndicatorRow) -> str:
    """'väntas öka till 13 905' / 'minskade till 2,14' / 'väntas ligga kvar på 5,37 %'."""
    now, before = r["forecast"], r["last_value"]
    unit = r["unit"] if r["unit"] == "%" else ""
    value = fmt_number(now, r["unit"]) + (f"\u00a0{unit}" if unit else "")
    outcome = r["basis"] == "outcome"
    if now is None:
        return ""
    if before is None or abs(now - before) <= 0.005 * abs(before) + 1e-9:
        return f"{'låg' if outcome else 'väntas ligga'} kvar på {value}"
    up = now > before
    if outcome:
        return f"{'ökade' if up else 'minskade'} till {value}"
    return f"väntas {'öka' if up else 'minska'} till {value}"


def _targets(g: GoalEntry) -> list[IndicatorRow]:
    """The rows the goal's rule counts: one per target indicator (the total, or the orter's summary)."""
    rows = [
        r
        for r in g["indicators"]
        if r["role"] == "target" and r["ort"] is None and r.get("reason_code") != "outside_life"
    ]
    out: dict[str, IndicatorRow] = {}
    for r in rows:
        if r["base_indicator"] not in out or r["gender"] == "T":
            out[r["base_indicator"]] = r
    return list(out.values())


def why_sentence(g: GoalEntry) -> str:
    """One sentence of why the goal has its verdict."""
    if g["kind"] != "styrande":
        a = g.get("assessment")
        if a:
            return f"Följs upp med självvärdering: {a['direction_text'].lower()}."
        return "Självvärdering saknas för perioden."
    rows = _targets(g)
    if not rows:
        return "Målet har inga målindikatorer i målkatalogen."
    lead = _indicator_counts(rows) if len(rows) > 1 else ""
    missing = [r for r in rows if r["status"] == "not_assessable"]
    # A P from a method without demonstrated skill is no evidence: it is never quoted.
    judged = [r for r in rows if r["p_met"] is not None and r.get("reason_code") != "no_skill"]
    unskilled = [r for r in rows if r.get("reason_code") == "no_skill"]
    if g["status"] == "not_assessable" and missing:
        detail = (
            f"{short_title(missing[0]['title'])}: {(missing[0].get('reason') or '').rstrip('.')}"
        )
    elif g.get("reason_code") == "parts_unskilled":
        names = [short_title(r["title"]) for r in unskilled]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]
        detail = f"prognosmetoden har inte visat träffsäkerhet för {listed} vid denna tidpunkt"
    elif judged:
        weakest = min(judged, key=lambda r: r["p_met"] or 0.0)
        move = _movement(weakest)
        name = short_title(weakest["title"])
        detail = f"{name} {move}" if move else name
        if weakest["basis"] != "outcome" and weakest["p_met"] is not None:
            detail += f" (P att målet nås {fmt_percent(weakest['p_met'])})"
    else:
        detail = ""
    parts = [p for p in (lead, detail) if p]
    text = "; ".join(parts)
    return (text[:1].upper() + text[1:] + ".") if text else ""


#: Indicators counted per status and basis: (verb, rest for one, rest for many), so the count
#: sentence can put the verb second ('Av de 3 målindikatorerna bedöms 2 nå sina mål').
_INDICATOR_COUNT_SV = {
    ("met", "forecast"): ("bedöms", "nå sitt mål", "nå sina mål"),
    ("met", "outcome"): ("har", "nått sitt mål", "nått sina mål"),
    ("uncertain", "forecast"): ("är", "osäker", "osäkra"),
    ("not_met", "forecast"): ("bedöms", "inte nå sitt mål", "inte nå sina mål"),
    ("not_met", "outcome"): ("har", "inte nått sitt mål", "inte nått sina mål"),
    ("not_assessable", None): ("kan", "inte bedömas", "inte bedömas"),
}


def _indicator_counts(rows: list[IndicatorRow]) -> str:
    """'av de 3 målindikatorerna bedöms 2 nå sina mål och 1 är osäker' (or 'alla 3
    målindikatorer är osäkra'), counted by status and basis in the contract's order."""
    counted = []
    for (status, basis), words in _INDICATOR_COUNT_SV.items():
        n = sum(
            r["status"] == status
            and (basis is None or (r["basis"] == "outcome") == (basis == "outcome"))
            for r in rows
        )
        if n:
            counted.append((n, words))
    if len(counted) == 1 and counted[0][0] == len(rows):
        verb, _, many = counted[0][1]
        return f"alla {len(rows)} målindikatorer {verb} {many}"
    items = []
    for k, (n, (verb, one, many)) in enumerate(counted):
        rest = one if n == 1 else many
        items.append(f"{verb} {n} {rest}" if k == 0 else f"{n} {verb} {rest}")
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]
    return f"av de {len(rows)} målindikatorerna {listed}"


def in_brief(rep: Report) -> Markup:
    """The 'I korthet' list: every goal, its verdict (symbol, words, colour), P in words, why."""
    th = rep["catalogue"]["thresholds"]
    items = []
    for g in rep["goals"]:
        items.append((g, p_sentence(g, th) + why_sentence(g)))
    return render("in_brief.html.j2", items=items, after=what_it_takes_brief(rep))
