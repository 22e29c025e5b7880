"""The 'I korthet' sentences: counts in Swedish word order, and no P from a method without skill."""

from __future__ import annotations

from typing import Any

from ks_analysis.report.brief import p_sentence, why_sentence
from ks_analysis.report.what_it_takes import short_title


def _row(ind: str, title: str, status: str, p: float | None, code: str | None = None) -> Any:
    return {
        "indicator": ind, "base_indicator": ind, "title": title, "role": "target", "ort": None,
        "gender": "T", "status": status, "p_met": p, "reason_code": code, "reason": None,
        "basis": "forecast", "forecast": 3.1, "last_value": 3.0, "unit": "%",
    }  # fmt: skip


def _goal(rows: list[Any], status: str, code: str) -> Any:
    return {"kind": "styrande", "status": status, "reason_code": code, "indicators": rows}


def test_a_goal_on_unskilled_forecasts_names_them_and_quotes_no_p() -> None:
    """Mål 2 at 2022-T2 on the real data: no 'P att målet nås 41 %' from a method without skill."""
    rows = [
        _row(
            "N03926", "Långtidsarbetslöshet 25-65 år, årsmedelvärde", "uncertain", 0.41, "no_skill"
        ),
        _row("N03920", "Arbetslöshet 18-65 år, årsmedelvärde", "uncertain", 0.56, "no_skill"),
        _row("N31816", "Vuxna med långvarigt ekonomiskt bistånd, andel", "uncertain", 0.42),
    ]
    text = why_sentence(_goal(rows, "uncertain", "parts_unskilled"))
    assert text == (
        "Alla 3 målindikatorer är osäkra; prognosmetoden har inte visat träffsäkerhet för "
        "långtidsarbetslöshet 25-65 år och arbetslöshet 18-65 år vid denna tidpunkt."
    )


def test_counts_put_the_verb_second_and_quote_the_weakest_skilled_p() -> None:
    rows = [
        _row("A", "Invånare totalt, antal", "met", 0.9),
        _row("B", "Nystartade företag, antal", "uncertain", 0.5),
        _row("C", "Konkurser, antal", "uncertain", 0.2, "no_skill"),
    ]
    text = why_sentence(_goal(rows, "uncertain", "evidence_undecided"))
    assert text.startswith("Av de 3 målindikatorerna bedöms 1 nå sitt mål och 2 är osäkra; ")
    assert "nystartade företag väntas öka" in text and "(P att målet nås 50\u00a0%)" in text
    assert "20 %" not in text


def test_short_titles_keep_names_and_acronyms() -> None:
    assert short_title("Nöjd Inflytande-Index, helheten") == "Nöjd Inflytande-Index"
    assert short_title("KF-tittare per månad") == "KF-tittare per månad"
    assert short_title("Långtidsarbetslöshet 25-65 år, årsmedelvärde") == (
        "långtidsarbetslöshet 25-65 år"
    )


def test_the_p_sentence_says_what_it_is_the_probability_of() -> None:
    """A partly met goal's P is that of the whole rule; 'delvis' beside 'osannolik' misread."""
    th = {"met": 0.75, "not_met": 0.25}
    goal = {"basis": "forecast", "status": "partly_met", "p_met": 0.14}
    assert p_sentence(goal, th) == "Sannolikheten att hela målet nås: 14\u00a0%. "
    goal = {"basis": "forecast", "status": "met", "p_met": 0.82}
    assert p_sentence(goal, th) == "Sannolikheten att målet nås: 82\u00a0% (troligt). "
    goal = {"basis": "forecast", "status": "not_met", "p_met": 0.12}
    assert p_sentence(goal, th) == "Sannolikheten att målet nås: 12\u00a0% (osannolikt). "
    assert p_sentence({"basis": "outcome", "status": "met", "p_met": 1.0}, th) == ""
    assert p_sentence({"basis": "forecast", "status": "uncertain", "p_met": None}, th) == ""
