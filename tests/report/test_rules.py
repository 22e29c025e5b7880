"""Report rules that auditors check: vintages of the previous forecast, roll-up votes, other kommuner, wording."""

from __future__ import annotations

from typing import Any

import pytest

from ks_analysis.cli import main
from ks_analysis.errors import ParameterError
from ks_analysis.paths import DEMO_DIR
from ks_analysis.report.build import _indicator_vote, build_report
from ks_analysis.report.sections import first_screen, summary_table


@pytest.fixture(scope="module")
def helar_later_vintage() -> dict[str, Any]:
    """Helår 2019 as known on 30 April 2020, when most of 2019 is published."""
    return build_report("2019-Y", raw=DEMO_DIR, as_of="2020-04-30")


def test_previous_forecast_is_rebuilt_as_known_at_its_own_cutoff(
    helar_later_vintage: dict[str, Any],
) -> None:
    """'What changed' compares with T2 as it was on 31 August, never with T2 seen through a later vintage."""
    t2 = build_report("2019-T2", raw=DEMO_DIR)
    t2_p = {g["id"]: g["p_met"] for g in t2["goals"]}
    for change in helar_later_vintage["changes"]:
        assert change["from_p"] == pytest.approx(t2_p[change["goal"]])


def test_outcomes_and_forecasts_are_counted_apart(helar_later_vintage: dict[str, Any]) -> None:
    """The summary counts goals met on outcomes apart from forecasts, in the table and on the first screen."""
    rep = helar_later_vintage
    outcome_met = sum(g["status"] == "met" and g["basis"] == "outcome" for g in rep["goals"])
    assert outcome_met >= 1, "with 2019 published, some goals have outcomes"
    text = summary_table(rep)
    assert f"{outcome_met} uppfyllda" in text
    assert "uppfyllda" in first_screen(rep)


def test_as_of_before_the_cutoff_is_refused() -> None:
    """An as_of before the period's cutoff is a ParameterError naming both dates."""
    with pytest.raises(
        ParameterError, match=r"--as-of 2019-05-01 is before the cutoff of 2019-T2 \(2019-08-31\)"
    ):
        build_report("2019-T2", raw=DEMO_DIR, as_of="2019-05-01")


def test_bad_peer_codes_exit_2_before_any_kernel(capsys: pytest.CaptureFixture[str]) -> None:
    """`report --peers` with a non-code exits 2 naming it."""
    assert main(["report", "--period", "2019-T1", "--peers", "0604,abc"]) == 2
    assert "'abc' is not a kommun code" in capsys.readouterr().err


def test_another_kommun_gets_its_own_peers_and_no_borrowed_assessments() -> None:
    """Vaggeryd's self-assessments and registers are not shown as Jönköping's."""
    rep = build_report("2019-T1", municipality="0680", raw=DEMO_DIR)
    assert "0680" not in rep["catalogue"]["peer_group"] and "0665" in rep["catalogue"]["peer_group"]
    assert rep["catalogue"]["peer_group_name"] == "Övriga kommuner i Jönköpings län"
    for g in rep["goals"]:
        if g["kind"] == "stödjande":
            assert g["status"] == "not_assessable" and "Vaggeryds kommun" in g["reason"]
            assert "kommunkompassen" not in g


def test_one_vote_per_indicator_women_and_men_weigh_equally() -> None:
    """An indicator votes once: with women and men the total is left out and each weighs half; alone the total counts."""
    rows = [
        {"gender": "T", "p_met": 1.0},
        {"gender": "K", "p_met": 1.0},
        {"gender": "M", "p_met": 0.0},
    ]
    assert _indicator_vote(rows) == 0.5
    assert _indicator_vote([{"gender": "T", "p_met": 0.8}]) == 0.8
    assert _indicator_vote([{"gender": "T", "p_met": None}]) is None
