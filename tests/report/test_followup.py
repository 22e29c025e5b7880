"""Analysis and actions per steering goal: shown under each goal, escaped, and 'Åtgärder saknas'
where a goal that will not (or may not) be met has no actions."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from ks_analysis import notebook_api
from ks_analysis.params import report_params
from ks_analysis.paths import DEMO_DIR
from ks_analysis.report.build import build_report, load_report_inputs
from ks_analysis.report.excel import write_workbook
from ks_analysis.report.followup import needs_actions
from ks_analysis.report.model import Report
from ks_analysis.swedish import fmt_number

STEERING = [1, 2, 3, 6]


def _sections(rep: Report) -> dict[int, str]:
    """Each goal's rendered section, by goal id."""
    html = str(notebook_api.render_goals(rep).data)
    found = re.findall(
        r'<section class="goal" aria-labelledby="mal-(\d+)">(.*?)</section>', html, re.S
    )
    return {int(gid): body for gid, body in found}


@pytest.fixture(scope="module", params=["2019-T1", "2019-T2", "2019-Y"])
def demo_report(request: pytest.FixtureRequest) -> tuple[str, Report]:
    period = request.param
    return period, build_report(load_report_inputs(report_params(period=period, raw=DEMO_DIR)))


def test_demo_reports_show_analysis_and_actions_for_every_steering_goal(
    demo_report: tuple[str, Report],
) -> None:
    """Each of the three demo reports shows, under every steering goal, the analysis and every
    action of the demo's period file (read here with plain YAML, not the package's loader)."""
    period, rep = demo_report
    written = yaml.safe_load((DEMO_DIR / "assessments" / f"{period}.yaml").read_text("utf-8"))
    by_goal = {a["goal"]: a for a in written["analyses"]}
    assert sorted(by_goal) == STEERING
    sections = _sections(rep)
    for gid in STEERING:
        body = sections[gid]
        assert "<h3>Analys</h3>" in body and "<h3>Åtgärder</h3>" in body
        assert by_goal[gid]["analys"].strip() in body
        for action in by_goal[gid]["atgarder"]:
            assert f"<li>{action}</li>" in body
        assert "Åtgärder saknas" not in body
    for gid in (4, 5, 7, 8):
        assert "<h3>Analys</h3>" not in sections[gid]
    goal = next(g for g in rep["goals"] if g["id"] == 2)
    assert goal["analysis"] is not None
    assert goal["analysis"]["atgarder"] == by_goal[2]["atgarder"]


def _folder_with(tmp_path: Path, period: str, analyses: str) -> Path:
    """A copy of the demo's assessments with the period file's `analyses:` replaced."""
    folder = tmp_path / "assessments"
    shutil.copytree(DEMO_DIR / "assessments", folder)
    path = folder / f"{period}.yaml"
    text = path.read_text("utf-8").split("\nanalyses:\n")[0]
    path.write_text(text + "\n" + analyses, encoding="utf-8")
    return folder


def test_a_red_or_uncertain_goal_without_actions_says_so(tmp_path: Path) -> None:
    """With analyses but no actions, every steering goal whose verdict needs actions shows
    'Åtgärder saknas' (also in rapport.xlsx), and a goal without that need does not."""
    period = "2019-Y"
    folder = _folder_with(
        tmp_path,
        period,
        "analyses:\n" + "".join(f"  - goal: {g}\n    analys: Analys {g}.\n" for g in STEERING),
    )
    rep = build_report(
        load_report_inputs(report_params(period=period, raw=DEMO_DIR, assessments=folder))
    )
    sections = _sections(rep)
    verdicts = {g["id"]: (g["status"], g["basis"]) for g in rep["goals"]}
    need = [gid for gid in STEERING if needs_actions(*verdicts[gid])]
    assert need and set(need) != set(STEERING)  # the demo has both cases in 2019-Y
    for gid in STEERING:
        assert f"Analys {gid}." in sections[gid]
        assert ("Åtgärder saknas" in sections[gid]) == (gid in need), verdicts[gid]
    wb = load_workbook(write_workbook(rep, tmp_path / "rapport.xlsx"))
    rows = list(wb["Analys och åtgärder"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in rows if r[5] == "Åtgärder saknas") == need


def test_markup_in_the_analysis_file_renders_as_text(tmp_path: Path) -> None:
    """Script tags and attributes in an analysis or action are shown as text, never as markup."""
    folder = _folder_with(
        tmp_path,
        "2019-T1",
        "analyses:\n  - goal: 1\n    analys: '<script>alert(1)</script> & <b>fet</b>'\n"
        "    atgarder: ['<img src=x onerror=alert(2)>']\n",
    )
    rep = build_report(
        load_report_inputs(report_params(period="2019-T1", raw=DEMO_DIR, assessments=folder))
    )
    body = re.search(r'<div class="analysis">(.*?)</div>', _sections(rep)[1], re.S)[1]
    assert "<script>" not in body and "<img" not in body and "<b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;fet&lt;/b&gt;" in body
    assert "&lt;img src=x onerror=alert(2)&gt;" in body


@pytest.mark.parametrize(
    ("status", "basis", "needed"),
    [
        ("not_met", "forecast", True),
        ("partly_met", "forecast", True),
        ("uncertain", "forecast", True),
        ("not_met", "outcome", True),
        ("met", "forecast", False),
        ("met", "outcome", False),
        ("partly_met", "outcome", False),
        ("not_assessable", None, False),
    ],
)
def test_which_verdicts_need_actions(status: str, basis: str | None, needed: bool) -> None:
    """'Bedöms inte uppfyllas', 'Bedöms delvis uppfyllas', 'Osäkert' and 'Ej uppfyllt' need actions."""
    assert needs_actions(status, basis) is needed


# Last year's forecasts against its outcome ----------------------------------------------


def test_last_years_t1_verdicts_are_those_of_last_years_own_t1_report() -> None:
    """The 2019-T2 report's rebuilt 2018-T1 verdicts equal the 2018-T1 report built from scratch
    (its own clean at 30 April 2018): the same cut and the same engine."""
    rep = build_report(load_report_inputs(report_params(period="2019-T2", raw=DEMO_DIR)))
    then = build_report(load_report_inputs(report_params(period="2018-T1", raw=DEMO_DIR)))
    ly = rep["last_year_forecasts"]
    assert ly is not None and ly["year"] == 2018 and ly["t1_cutoff"] == "2018-04-30"
    own = {g["id"]: (g["status"], g["basis"], g["p_met"]) for g in then["goals"]}
    rebuilt = {
        g["goal"]: (g["t1"]["status"], g["t1"]["basis"], g["t1"]["p_met"]) for g in ly["goals"]
    }
    assert rebuilt == {gid: own[gid] for gid in STEERING}


def test_last_years_outcome_matches_the_tidy_table() -> None:
    """Goal 2 ('decrease' for all three target KPIs, rule all_met): its 2018 outcome in the
    2019-T2 report follows from the 2018 and 2017 values in the demo's tidy table, read here
    directly; and the rendered table shows it."""
    from ks_analysis.clean import run_clean

    tidy = run_clean(DEMO_DIR, as_of=dt.date(2019, 8, 31)).tidy
    mine = tidy[(tidy["municipality"] == "0665") & (tidy["gender"] == "T")]
    fell = []
    for kpi in ("N03926", "N03920", "N31816"):
        v = mine[mine["indicator"] == kpi].set_index("period")["value"]
        fell.append(bool(v["2018"] < v["2017"]))
    expected = "met" if all(fell) else "not_met" if not any(fell) else "partly_met"
    rep = build_report(load_report_inputs(report_params(period="2019-T2", raw=DEMO_DIR)))
    ly = rep["last_year_forecasts"]
    assert ly is not None
    goal2 = next(g for g in ly["goals"] if g["goal"] == 2)
    assert goal2["outcome_known"] and goal2["outcome"]["basis"] == "outcome"
    assert goal2["outcome"]["status"] == expected
    html = str(notebook_api.render_back(rep).data)
    section = html[html.index('id="forra-aret"') : html.index('id="metod"')]
    row = re.search(r"<tr><th scope=\"row\"[^>]*>Mål 2\..*?</tr>", section, re.S)
    assert row and goal2["outcome"]["status_text"] in row[0]
    # The method's track record for the report's own indicators, beside the aggregate.
    assert "Långtidsarbetslöshet 25-65 år" in section and "Alla serier: fel" in section


def test_the_periods_of_a_year_judge_last_years_t1_and_t2_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`report --year` builds its three reports in one kernel: last year's T1 and T2 verdicts are
    judged once (the same rows), the outcome at each report's own date; rows that differ in one
    value are judged again, and give the verdict of those rows."""
    from ks_analysis.report import followup

    judged: list[str] = []
    real_judge = followup.judge_goals

    def counting(tidy, cat, municipality, per, day, *args, **kwargs):  # type: ignore[no-untyped-def]
        judged.append(per.id)
        return real_judge(tidy, cat, municipality, per, day, *args, **kwargs)

    monkeypatch.setattr(followup, "_JUDGED", type(followup._JUDGED)(followup._JUDGED.max_entries))
    monkeypatch.setattr(followup, "judge_goals", counting)
    reps = {
        p: build_report(load_report_inputs(report_params(period=p, raw=DEMO_DIR)))
        for p in ("2019-T1", "2019-T2", "2019-Y")
    }
    assert sorted(judged) == ["2018-T1", "2018-T2", "2018-Y", "2018-Y", "2018-Y"]
    firsts = {p: r["last_year_forecasts"]["goals"] for p, r in reps.items()}
    assert [g["t1"] for g in firsts["2019-T1"]] == [g["t1"] for g in firsts["2019-Y"]]
    # One value changed: the rows' digest changes, so 2018-T1 is judged again from them.
    inputs = load_report_inputs(report_params(period="2019-T2", raw=DEMO_DIR))
    tidy = inputs.current.clean.tidy
    row = tidy.index[(tidy["indicator"] == "N01951") & (tidy["municipality"] == "0665")][0]
    tidy.loc[row, "value"] = tidy.loc[row, "value"] + 1
    judged.clear()
    build_report(inputs)
    assert sorted(judged) == ["2018-T1", "2018-T2", "2018-Y"]


def test_an_outcome_not_yet_published_is_said_so() -> None:
    """At 30 April 2019 Kolada has not published 2018's ekonomiskt bistånd (June), so goal 2's
    2018 outcome is 'Ännu inte känt' in the 2019-T1 report, never a forecast shown as outcome."""
    rep = build_report(load_report_inputs(report_params(period="2019-T1", raw=DEMO_DIR)))
    ly = rep["last_year_forecasts"]
    assert ly is not None
    goal2 = next(g for g in ly["goals"] if g["goal"] == 2)
    assert not goal2["outcome_known"] and goal2["t1_right"] is None and goal2["t2_right"] is None
    assert "Ännu inte känt" in str(notebook_api.render_back(rep).data)


# Kommunkompassen, once --------------------------------------------------------------------


def test_kommunkompassen_is_shown_once_with_its_scale(demo_report: tuple[str, Report]) -> None:
    """The whole report has one Kommunkompassen table, with 0–100 per area and 800 in all; goal
    5 (health) shows no Kommunkompassen and no 'Samverkan med näringslivet'."""
    _, rep = demo_report
    html = str(notebook_api.render_goals(rep).data) + str(notebook_api.render_back(rep).data)
    assert html.count("<caption>Kommunkompassen") == 1
    assert "0–100 poäng i vart och ett av åtta områden, högst 800 poäng totalt" in html
    assert re.search(r"\d+ av 100 \(\d{4}\)", html)
    goal5 = _sections(rep)[5]
    assert "Kommunkompassen" not in goal5 and "näringslivet" not in goal5


# Mål 5's health KPIs ------------------------------------------------------------------------

HEALTH = ("N33820", "N00957", "N00938")


def test_goal_5_says_plainly_that_the_demo_has_no_health_kpis(
    demo_report: tuple[str, Report],
) -> None:
    """The demo data has none of the catalogue's health KPIs for Mål 5: the goal names each of
    them and says the data has none (no forecast, no target)."""
    _, rep = demo_report
    goal5 = next(g for g in rep["goals"] if g["id"] == 5)
    assert [r["indicator"] for r in goal5["indicators_known"]] == list(HEALTH)
    assert all(r["missing"] for r in goal5["indicators_known"])
    body = _sections(rep)[5]
    assert "Uppgift saknas i källdata." in body and "inga av dem" in body
    for kpi in HEALTH:
        assert f"({kpi})" in body


def test_a_health_kpi_in_the_data_is_shown_with_its_latest_value(tmp_path: Path) -> None:
    """With Kolada's ohälsotal (N00957) added to the demo's raw folder as a Kolada bulk file, Mål 5
    shows its latest value known at the cutoff (2018, published in March 2019 under the demo's
    75-day lag; 2019 is not yet published), and names only the two KPIs still missing."""
    raw = tmp_path / "raw"
    shutil.copytree(DEMO_DIR, raw)
    (raw / "kolada" / "ddf--datapoints--n00957--by--geo--year.csv").write_text(
        "geo,year,n00957\r\n0665,2016,31.5\r\n0665,2017,29.25\r\n0665,2018,27.75\r\n0665,2019,26.0\r\n",
        encoding="utf-8",
    )
    rep = build_report(load_report_inputs(report_params(period="2019-T1", raw=raw)))
    goal5 = next(g for g in rep["goals"] if g["id"] == 5)
    known = {r["indicator"]: r for r in goal5["indicators_known"]}
    assert known["N00957"]["values"] == {"T": {"value": 27.75, "period": "2018"}}
    body = _sections(rep)[5]
    assert f"Ohälsotal, dagar: {fmt_number(27.75, 'dagar')} (2018)" in body
    assert "(N00957)" not in body and "(N33820)" in body and "inte dessa" in body


@pytest.mark.real
def test_the_real_report_says_the_data_has_no_health_kpis(real_report_2022_t2: Path) -> None:
    """The shared real data (Kolada dump 2024) has no health KPI: the real 2022-T2 report says so
    under Mål 5, naming the KPIs."""
    html = (real_report_2022_t2 / "rapport.html").read_text(encoding="utf-8")
    goal5 = html[html.index('id="mal-5"') : html.index('id="mal-6"')]
    assert "Uppgift saknas i källdata." in goal5
    for kpi in HEALTH:
        assert f"({kpi})" in goal5


def test_report_refuses_a_bad_analysis_before_any_kernel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report` with a wrong `atgarder` (a text, not a list) exits 2 with one line naming the file,
    the field path and what is allowed, and writes nothing."""
    from ks_analysis.cli import main

    folder = _folder_with(
        tmp_path,
        "2019-T1",
        "analyses:\n  - goal: 2\n    analys: Text.\n    atgarder: Fler platser\n",
    )
    out = tmp_path / "reports"
    assert (
        main(["report", "--period", "2019-T1", "--assessments", str(folder), "--out", str(out)])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(
        "2019-T1.yaml: field 'analyses[1].atgarder': 'Fler platser' is not allowed: the actions "
        "are a list of at most 50 texts; write one '- action' line per action"
    )
    assert "notebook" not in err[-1] and "Traceback" not in "\n".join(err)
    assert not (out / "0665" / "2019-T1").exists()
