"""The sentences behind a steering goal's verdict (goal_reason), from real verdicts."""

from __future__ import annotations

import numpy as np

from ks_analysis.evaluate.status import Part, goal_verdict
from ks_analysis.report.goals import goal_reason

TH = {"met": 0.75, "not_met": 0.25}


def _outcome(name: str, hit: bool) -> Part:
    status = "met" if hit else "not_met"
    return Part(name, status, lambda u: np.full(u.shape, hit), {}, outcome=True)


def _forecast(name: str, p: float, *, unskilled: bool = False) -> Part:
    status = "uncertain" if unskilled or 0.25 < p < 0.75 else "met" if p >= 0.75 else "not_met"
    return Part(name, status, lambda u: u < p, {}, unskilled=unskilled)


def test_outcome_sentences_count_in_plain_swedish() -> None:
    """'1 av 1 målindikatorer nådde målet' and '0 av 3 …' read as a machine wrote them."""
    one = goal_verdict("all_met", [_outcome("a", True)], TH)
    assert goal_reason("all_met", one).endswith("Målindikatorn nådde sitt mål.")
    none = goal_verdict("all_met", [_outcome(x, False) for x in "abc"], TH)
    assert goal_reason("all_met", none).endswith("Ingen av de 3 målindikatorerna nådde sitt mål.")
    two = goal_verdict(
        "all_met", [_outcome("a", True), _outcome("b", True), _outcome("c", False)], TH
    )
    assert goal_reason("all_met", two).endswith("2 av 3 målindikatorer nådde sina mål.")


def test_unskilled_parts_are_named_as_the_reason_and_no_p_is_given() -> None:
    v = goal_verdict("all_met", [_forecast(x, 0.45, unskilled=True) for x in "abc"], TH, seed=1)
    text = goal_reason("all_met", v)
    assert "Alla 3 målindikatorer är osäkra." in text
    assert "för 3 av 3 målindikatorer har prognosmetoden inte visat träffsäkerhet" in text.lower()
    assert "Utan dem avgör underlaget inte om målet uppfylls" in text
    assert "Sannolikheten att målet uppfylls är" not in text


def test_known_outcomes_that_decide_are_said_instead_of_a_drawn_p() -> None:
    v = goal_verdict("all_met", [_outcome("a", False), _forecast("b", 0.5)], TH, seed=1)
    text = goal_reason("all_met", v)
    assert "Av de 2 målindikatorerna har 1 inte nått sitt mål och 1 är osäker." in text
    assert text.endswith(
        "De utfall som redan är kända avgör regeln: målet kan inte längre uppfyllas."
    )


def test_a_partly_met_goal_says_its_p_is_that_of_the_whole_goal() -> None:
    """'Bedöms delvis uppfyllas' beside 'Sannolikheten att målet uppfylls är 8 %' read as a
    contradiction; the P is that of the whole rule, and the sentence says so."""
    parts = [_forecast("a", 0.95), _forecast("b", 0.9), _forecast("c", 0.1)]
    v = goal_verdict("all_met", parts, TH, seed=1)
    assert v.status == "partly_met"
    text = goal_reason("all_met", v)
    assert "Sannolikheten att hela målet uppfylls är" in text
    met = goal_verdict("all_met", [_forecast("a", 0.97), _forecast("b", 0.98)], TH, seed=1)
    assert "Sannolikheten att målet uppfylls är" in goal_reason("all_met", met)
