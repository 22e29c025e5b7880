"""'Vad som krävs' in the report: every indicator and goal at risk gets it, it keeps its definition
on the demo and the real data, and moving the deciding indicator across the stated boundary flips
the goal in a rebuilt report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from ks_analysis import notebook_api as ks
from ks_analysis.evaluate.status import Part, goal_verdict, met_outcome
from ks_analysis.evaluate.what_it_takes import ConditionedGoal, goal_met_given
from ks_analysis.forecast.engine import forecast_indicator
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.params import report_params
from ks_analysis.paths import DEMO_DIR, PROJECT_ROOT
from ks_analysis.report import goals as goals_mod
from ks_analysis.report.build import build_report, load_report_inputs
from ks_analysis.report.contract import contract_violations
from ks_analysis.report.excel import write_workbook
from ks_analysis.report.goals import judge_goals
from ks_analysis.report.inputs import ReportInputs
from ks_analysis.report.model import Report
from ks_analysis.report.what_it_takes import GOAL_AT_RISK
from ks_analysis.swedish import fmt_number


def _ids() -> dict[int, list[str]]:
    return {g.id: [i.id for i in g.indicators] for g in load_catalogue().goals if g.is_steering}


@pytest.fixture(scope="module")
def demo_inputs() -> dict[str, ReportInputs]:
    return {
        p: load_report_inputs(report_params(period=p, raw=DEMO_DIR)) for p in ("2019-T1", "2019-T2")
    }


@pytest.fixture(scope="module")
def demo(demo_inputs: dict[str, ReportInputs]) -> dict[str, Report]:
    return {p: build_report(i) for p, i in demo_inputs.items()}


def _at_risk_targets(rep: Report) -> list[dict]:
    return [
        r
        for g in rep["goals"]
        for r in g["indicators"]
        if r["role"] == "target" and r["status"] in ("uncertain", "not_met")
    ]


@pytest.mark.parametrize("period", ["2019-T1", "2019-T2"])
def test_every_goal_at_risk_has_its_box_with_the_numbers(
    demo: dict[str, Report], period: str
) -> None:
    rep = demo[period]
    html = ks.render_goals(rep).data
    brief = ks.render_front(rep).data
    at_risk = [g for g in rep["goals"] if g["kind"] == "styrande" and g["status"] in GOAL_AT_RISK]
    assert at_risk, "the demo has goals at risk at T1 and T2"
    for g in at_risk:
        section = html.split(f'id="mal-{g["id"]}"', 1)[1].split("</section>", 1)[0]
        assert f'id="krav-{g["id"]}"' in section and "Vad som krävs" in section
        for r in g["indicators"]:
            w = r.get("what_it_takes")
            if w and r["ort"] is None and w.get("required") is not None:
                # the required value as the reader sees it, in Swedish digits
                unit = r["unit"]
                assert fmt_number(w["required"], unit) in section
        assert f'href="#krav-{g["id"]}"' in brief
    assert contract_violations(rep, _ids()) == []
    assert len(_at_risk_targets(rep)) == sum(
        1 for r in _at_risk_targets(rep) if r.get("what_it_takes")
    )


def test_the_rule_is_explained_in_sa_bedoms_malen(demo: dict[str, Report]) -> None:
    back = ks.render_back(demo["2019-T2"]).data
    rules = back.split('id="regler"', 1)[1].split("</section>", 1)[0]
    assert "Vad som krävs:" in rules and "samma 5\u00a0000 gemensamma dragningar" in rules


def test_a_sum_target_needs_the_target_minus_what_is_known(
    demo: dict[str, Report], demo_inputs: dict[str, ReportInputs]
) -> None:
    rep, inputs = demo["2019-T2"], demo_inputs["2019-T2"]
    tidy = inputs.current.clean.tidy
    sums = [
        r
        for r in _at_risk_targets(rep)
        if r.get("what_it_takes", {}).get("kind") == "remainder_sum"
    ]
    assert sums, "the demo's web visits are a yearly sum at risk at T2"
    for r in sums:
        w = r["what_it_takes"]
        rows = tidy[
            (tidy["municipality"] == "0665")
            & (tidy["indicator"] == r["indicator"])
            & (tidy["gender"] == r["gender"])
        ]
        months = rows["period"].astype(str)
        this_year = rows[months.str.startswith("2019-")]
        last_year = rows[months.str.startswith("2018-")]
        assert w["known"] == pytest.approx(this_year["value"].sum())
        assert w["required"] + w["known"] == pytest.approx(w["threshold"])
        # increase on whole counts: more than last year's total, i.e. at least one more
        assert r["target_type"] == "increase"
        assert w["threshold"] == pytest.approx(last_year["value"].sum() + 1)
        assert w["side"] == ">="
        rest = {f"2018-{m:02d}" for m in w["remaining_periods"]}
        same = last_year[last_year["period"].astype(str).isin(rest)]["value"].sum()
        assert w["last_year_same"] == pytest.approx(same)
        assert w["remaining_label"] == "september–december"


def _captured_parts(
    inputs: ReportInputs, monkeypatch: pytest.MonkeyPatch
) -> tuple[list, dict[int, dict]]:
    """Judge the goals as the report does, keeping the parts and seed each goal's verdict got."""
    calls: list[tuple] = []

    def spy(rule, parts, thresholds, *, seed=0):  # type: ignore[no-untyped-def]
        calls.append((rule, list(parts), thresholds, seed))
        return goal_verdict(rule, parts, thresholds, seed=seed)

    monkeypatch.setattr(goals_mod, "goal_verdict", spy)
    per, as_of = inputs.params.period, inputs.params.as_of
    judged = judge_goals(inputs.current.clean.tidy, inputs.catalogue, "0665", per, as_of, {}, None)
    steering = [g for g in judged if g["kind"] == "styrande"]
    return calls, {g["id"]: g for g in steering} | {"order": [g["id"] for g in steering]}  # type: ignore[dict-item]


def _status_with(
    rule: str, parts: list[Part], thresholds: dict, seed: int, pid: str, v: float, thr: tuple
) -> str:
    """The goal's verdict with one part's outcome known to be ``v`` (the report's own machinery)."""
    hit = met_outcome(v, *thr)
    fixed = [
        Part(
            p.id,
            "met" if hit else "not_met",
            lambda u, h=hit: np.full(u.shape, h),
            p.history,
            outcome=True,
        )
        if p.id == pid
        else p
        for p in parts
    ]
    return goal_verdict(rule, fixed, thresholds, seed=seed).status


@pytest.mark.parametrize("goal_id", [3, 6])
def test_moving_the_deciding_indicator_across_the_boundary_flips_the_goal(
    demo_inputs: dict[str, ReportInputs], monkeypatch: pytest.MonkeyPatch, goal_id: int
) -> None:
    inputs = demo_inputs["2019-T2"]
    calls, by_id = _captured_parts(inputs, monkeypatch)
    rule, parts, thresholds, seed = calls[by_id["order"].index(goal_id)]
    g = by_id[goal_id]
    w = g["what_it_takes"]
    assert g["status"] != "met" and w["deciding"] is not None
    flip = next(f for f in w["flips"] if f["indicator"] == w["deciding"])
    b, side = flip["boundary"], flip["flip_side"]
    row = next(r for r in g["indicators"] if r["indicator"] == w["deciding"] and r["gender"] == "T")
    # the deciding indicator's own threshold, from its requirement
    thr = (row["what_it_takes"]["threshold"], row["what_it_takes"]["side"])
    step = 1e-3 * max(1.0, abs(b))
    beyond, short = (b + step, b - step) if side == ">" else (b - step, b + step)
    far_short = b - 50 * step if side == ">" else b + 50 * step
    # 1. P(rule | outcome) from the goal's own conditioned joint draws (the stated definition)
    cg = ConditionedGoal(rule, parts, thresholds, seed=seed)
    i = cg.index(w["deciding"])
    assert i is not None
    fc_draws = np.sort(_deciding_draws(inputs, w["deciding"]))
    assert goal_met_given(cg, i, fc_draws, thr, beyond)[0]
    assert not goal_met_given(cg, i, fc_draws, thr, short)[0]
    assert not goal_met_given(cg, i, fc_draws, thr, far_short)[0]
    # 2. the report's verdict with the outcome fixed (no conditioning of the other indicators):
    # where the boundary is the indicator's own threshold, it flips there as well
    if abs(b - thr[0]) <= 1e-6 * max(1.0, abs(b)):
        assert _status_with(rule, parts, thresholds, seed, w["deciding"], beyond, thr) == "met"
        assert _status_with(rule, parts, thresholds, seed, w["deciding"], short, thr) != "met"


def _deciding_draws(inputs: ReportInputs, indicator_id: str) -> np.ndarray:
    """The deciding indicator's predictive draws, forecast exactly as the report forecasts it."""
    ind = inputs.catalogue.indicator(indicator_id)
    per = inputs.params.period
    fc = forecast_indicator(
        inputs.current.clean.tidy, municipality="0665", indicator=ind, gender="T",
        year=per.year, cutoff=per.cutoff, as_of=inputs.params.as_of,
    )  # fmt: skip
    assert fc.samples is not None
    return np.asarray(fc.samples)


def test_the_workbook_has_its_own_sheet_with_numbers(
    demo: dict[str, Report], tmp_path: Path
) -> None:
    rep = demo["2019-T2"]
    ws = load_workbook(write_workbook(rep, tmp_path / "rapport.xlsx"))["Vad som krävs"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Mål", "Indikator", "Titel"] and "Krav" in header
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    req = header.index("Krav")
    indicator_rows = [r for r in rows if r[header.index("Avser")] != "gräns för målet"]
    assert len(indicator_rows) == len(_at_risk_targets(rep))
    numbers = [r[req] for r in rows if r[req] is not None]
    assert numbers and all(isinstance(x, int | float) for x in numbers)


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real_reports(real_data: Path) -> dict[str, Report]:
    sources = PROJECT_ROOT / "data" / "real-sources.yaml"
    return {
        p: build_report(load_report_inputs(report_params(period=p, raw=real_data, sources=sources)))
        for p in ("2019-T2", "2022-T2")
    }


@pytest.mark.real
@pytest.mark.parametrize("period", ["2019-T2", "2022-T2"])
def test_real_reports_give_every_target_at_risk_its_requirement(
    real_reports: dict[str, Report], period: str
) -> None:
    rep = real_reports[period]
    at_risk = _at_risk_targets(rep)
    assert at_risk, f"{period}: the real data has target indicators at risk"
    assert all(r.get("what_it_takes") for r in at_risk)
    assert contract_violations(rep, _ids()) == []
    for r in at_risk:
        w = r["what_it_takes"]
        if w["kind"] == "value" and r["target_type"] == "decrease":
            # below last year's published value: the value the row's history holds for year - 1
            assert w["threshold"] == pytest.approx(r["history"][int(period[:4]) - 1])
            assert w["publication"] and w["publication"]["expected"].startswith(
                str(int(period[:4]) + 1)
            )
    unprecedented = sum(bool(r["what_it_takes"].get("unprecedented")) for r in at_risk)
    print(f"{period}: {len(at_risk)} what_it_takes entries, {unprecedented} not seen in N years")
