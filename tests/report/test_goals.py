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
