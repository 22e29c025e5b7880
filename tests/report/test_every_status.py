"""No crash on any period: every period kind, basis and status through the whole render path.

The render path is the one notebook 03 runs (build_report, then the front, summary, goal and back
sections with charts), in process. Each report is also checked against the status contract.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ks_analysis import notebook_api as ks
from ks_analysis.evaluate.status import GOAL_STATUSES
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.params import report_params
from ks_analysis.paths import DEMO_DIR
from ks_analysis.report import sections
from ks_analysis.report.build import build_report, load_report_inputs
from ks_analysis.report.contract import contract_violations, interval_violations
from ks_analysis.report.model import Report
from ks_analysis.report.supporting import render_goal_extras
from ks_analysis.swedish import status_text


def _render(rep: Report, *, charts: bool = True) -> str:
    """The whole report's HTML as notebook 03 renders it (``charts=False``: the same sections
    without the charts, which do not depend on a goal's status)."""
    goals = (
        ks.render_goals(rep).data
        if charts
        else "".join(sections.goal_section(g, render_goal_extras(g)) for g in rep["goals"])
    )
    parts = (ks.render_front(rep), ks.render_summary(rep), ks.render_back(rep))
    return parts[0].data + parts[1].data + goals + parts[2].data


def _ids(goals: Path | None = None) -> dict[int, list[str]]:
    cat = load_catalogue(goals)
    return {g.id: [i.id for i in g.indicators] for g in cat.goals if g.is_steering}


# T1, T2 and Y at their cutoffs (forecasts), and Y a year later (outcomes where published).
CASES = [("2019-T1", None), ("2019-T2", None), ("2019-Y", None), ("2019-Y", "2020-12-31")]


@pytest.fixture(scope="module")
def demo_reports() -> dict[tuple[str, str | None], Report]:
    return {
        (p, a): build_report(load_report_inputs(report_params(period=p, raw=DEMO_DIR, as_of=a)))
        for p, a in CASES
    }


@pytest.mark.parametrize(("period", "as_of"), CASES)
def test_demo_reports_render_and_keep_the_contract(
    demo_reports: dict[tuple[str, str | None], Report], period: str, as_of: str | None
) -> None:
    """Every demo period renders; report.json keeps the status contract; every catalogue
    indicator is in it; no indicator is ever 'delvis'."""
    rep = demo_reports[(period, as_of)]
    assert contract_violations(rep, _ids()) == []  # intervals: see the test below
    html = _render(rep)
    assert "Traceback" not in html and "KeyError" not in html
    for g in rep["goals"]:
        for r in g["indicators"]:
            assert "delvis" not in r["status_text"].lower()
        assert f'id="mal-{g["id"]}"' in html


@pytest.mark.parametrize(("period", "as_of"), CASES[:3])
def test_demo_intervals_stay_in_the_possible_range(
    demo_reports: dict[tuple[str, str | None], Report], period: str, as_of: str | None
) -> None:
    """No printed interval leaves the range the year's value can take (0-100 for an index)."""
    assert interval_violations(demo_reports[(period, as_of)]) == []


def test_the_interval_check_catches_what_the_known_months_force() -> None:
    """The checker recomputes the range from the row alone: a yearly mean of monthly counts with
    7 months known at a mean of 210 cannot end below 7 × 210 / 12 = 122,5; a share stays 0-100."""
    row: dict[str, Any] = {
        "indicator": "AF_ARBETSLOSA", "gender": "T", "unit": "antal", "aggregation": "mean",
        "known_periods": 7, "total_periods": 12, "known_value": 210.0, "history": {2021: 250.0},
        "forecast": 200.0, "lo80": 124.0, "hi80": 471.0, "lo95": 100.0, "hi95": 520.0,
    }  # fmt: skip
    rep: Any = {"goals": [{"id": 2, "indicators": [row]}]}
    assert interval_violations(rep) == [
        "goal 2 AF_ARBETSLOSA T: lo95 100.0 outside the possible range [122.5, inf]"
    ]
    share = {**row, "unit": "%", "known_periods": 0, "known_value": None, "history": {2021: 5.0}}
    share |= {"lo95": 0.0, "lo80": 1.0, "forecast": 5.0, "hi80": 99.0, "hi95": 142.0}
    rep = {"goals": [{"id": 2, "indicators": [share]}]}
    assert interval_violations(rep) == [
        "goal 2 AF_ARBETSLOSA T: hi95 142.0 outside the possible range [0.0, 100.0]"
    ]
    share |= {"hi95": 90.0}
    assert interval_violations(rep) == ["goal 2 AF_ARBETSLOSA T: hi80 99.0 > hi95 90.0"]


def test_the_year_later_report_has_outcomes_with_p_zero_or_one(
    demo_reports: dict[tuple[str, str | None], Report],
) -> None:
    """With 2019 published, goals judged on outcomes have P 0 or 1 and say how many indicators
    reached their targets."""
    rep = demo_reports[("2019-Y", "2020-12-31")]
    outcome = [g for g in rep["goals"] if g["basis"] == "outcome"]
    assert outcome, "a year later, some goals rest on outcomes only"
    for g in outcome:
        assert g["p_met"] in (0.0, 1.0) and g.get("share_met_text")


def test_the_demo_shows_the_whole_range_of_goal_statuses(
    demo_reports: dict[tuple[str, str | None], Report],
) -> None:
    """Across the three 2019 demo reports at their cutoffs, some steering goal is met, one partly
    met, one not met and one uncertain, and some target indicator is not met: from the demo's
    data (dwellings finishing ahead of the target's pace until August, then two delayed blocks;
    a population that fell in 2017, so 2019's increase is uncertain), not from special cases."""
    seen = {
        (p, g["id"]): g["status"]
        for p in ("2019-T1", "2019-T2", "2019-Y")
        for g in demo_reports[(p, None)]["goals"]
        if g["kind"] == "styrande"
    }
    assert {"met", "partly_met", "not_met", "uncertain"} <= set(seen.values()), seen
    indicators = {
        i["status"]
        for p in ("2019-T1", "2019-T2", "2019-Y")
        for g in demo_reports[(p, None)]["goals"]
        if g["kind"] == "styrande"
        for i in g["indicators"]
    }
    assert "not_met" in indicators


def test_a_goal_on_forecasts_without_skill_is_uncertain_and_says_why(
    demo_reports: dict[tuple[str, str | None], Report],
) -> None:
    """Mål 2's annual unemployment KPIs show no backtested skill at T2: the goal is 'Osäkert' with
    no P on the page, its reason says why, and no indicator row of it prints a probability in
    'Vad som krävs'."""
    rep = demo_reports[("2019-T2", None)]
    g = next(g for g in rep["goals"] if g["id"] == 2)
    assert g["status"] == "uncertain" and g["p_met"] is None
    assert g["reason_code"] == "parts_unskilled" and g["p_model"] is not None
    assert "inte visat träffsäkerhet" in g["reason"]
    unskilled = [r for r in g["indicators"] if r["reason_code"] == "no_skill"]
    assert unskilled and all(r["status"] == "uncertain" for r in unskilled)
    for r in unskilled:
        text = (r.get("what_it_takes") or {}).get("text", "")
        assert "sannolikhet enligt prognosen" not in text
    html = sections.goal_section(g, render_goal_extras(g))
    assert "P(uppfyllt) " not in html.split("</p>", 1)[0]


@pytest.mark.parametrize("period", ["2019-T1", "2019-T2", "2019-Y"])
@pytest.mark.parametrize("basis", ["forecast", "outcome"])
def test_every_goal_status_on_every_basis_renders(
    demo_reports: dict[tuple[str, str | None], Report], period: str, basis: str
) -> None:
    """Each steering goal forced through every goal status and basis renders without error, with
    the status's own Swedish words on the page."""
    base = demo_reports[(period, None)]
    for status in GOAL_STATUSES:
        rep: Any = copy.deepcopy(base)
        for g in rep["goals"]:
            if g["kind"] == "styrande":
                g["status"], g["basis"] = status, basis
                g["status_text"] = status_text(status, basis)
                g["p_met"] = None if status in ("not_assessable", "no_forecast") else g["p_met"]
        html = _render(rep, charts=False)
        assert status_text(status, basis) in html


@pytest.fixture(scope="module")
def no_data_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged catalogue with every indicator id renamed to one no source has."""
    cat = load_catalogue()
    raw = yaml.safe_load(cat.path.read_text(encoding="utf-8"))
    for g in raw["goals"]:
        for i, ind in enumerate(g.get("indicators", [])):
            ind["id"] = f"LOKAL_SAKNAS_{g['id']}_{i}"
            ind.pop("signal", None)
            ind.pop("successor", None)
            ind.pop("predecessor", None)
    path = tmp_path_factory.mktemp("cat") / "goals_no_data.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("period", "as_of"), CASES)
def test_a_catalogue_without_any_data_renders_every_indicator_as_not_assessable(
    no_data_catalogue: Path, period: str, as_of: str | None
) -> None:
    """Nothing vanishes: with no data for any indicator, every one is in the report, not
    assessable with a Swedish reason, and every steering goal cannot be assessed."""
    rep = build_report(
        load_report_inputs(
            report_params(period=period, raw=DEMO_DIR, as_of=as_of, goals=no_data_catalogue)
        )
    )
    assert contract_violations(rep, _ids(no_data_catalogue)) == []
    html = _render(rep)
    for g in rep["goals"]:
        if g["kind"] != "styrande":
            continue
        assert g["status"] == "not_assessable" and g["p_met"] is None
        for r in g["indicators"]:
            assert r["status"] == "not_assessable" and r["reason"]
            assert (
                r["reason"].startswith("Uppgift saknas i källdata")
                or r["reason_code"] == "outside_life"
            )
    assert "Uppgift saknas i källdata" in html
