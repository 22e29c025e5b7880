"""Tests of report/build.py: the pure report build, and the rules auditors check in it (vintages of the previous forecast, roll-up votes, other kommuner, wording)."""

from __future__ import annotations

from typing import Any

import pytest

from ks_analysis.cli import main
from ks_analysis.errors import ParameterError
from ks_analysis.params import report_params
from ks_analysis.paths import DEMO_DIR
from ks_analysis.report.build import build_report, load_report_inputs
from ks_analysis.report.goals import _indicator_vote
from ks_analysis.report.model import Report
from ks_analysis.report.sections import first_screen, summary_table


def _report(period: str, **params: Any) -> Report:
    """The report of ``period`` built in-process (no kernel), parameters parsed as the CLI does."""
    return build_report(load_report_inputs(report_params(period=period, **params)))


@pytest.fixture(scope="module")
def helar_later_vintage() -> Report:
    """Helår 2019 as known on 30 April 2020, when most of 2019 is published."""
    return _report("2019-Y", raw=DEMO_DIR, as_of="2020-04-30")


def test_previous_forecast_is_rebuilt_as_known_at_its_own_cutoff(
    helar_later_vintage: Report,
) -> None:
    """'What changed' compares with T2 as it was on 31 August, never with T2 seen through a later vintage."""
    t2 = _report("2019-T2", raw=DEMO_DIR)
    t2_p = {g["id"]: g["p_met"] for g in t2["goals"]}
    for change in helar_later_vintage["changes"]:
        assert change["from_p"] == pytest.approx(t2_p[change["goal"]])


def test_outcomes_and_forecasts_are_counted_apart(helar_later_vintage: Report) -> None:
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
        _report("2019-T2", raw=DEMO_DIR, as_of="2019-05-01")


def test_bad_peer_codes_exit_2_before_any_kernel(capsys: pytest.CaptureFixture[str]) -> None:
    """`report --peers` with a non-code exits 2 naming it."""
    assert main(["report", "--period", "2019-T1", "--peers", "0604,abc"]) == 2
    assert "'abc' is not a kommun code" in capsys.readouterr().err


def test_another_kommun_gets_its_own_peers_and_no_borrowed_assessments() -> None:
    """Vaggeryd's self-assessments and registers are not shown as Jönköping's."""
    rep = _report("2019-T1", municipality="0680", raw=DEMO_DIR)
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


def test_build_report_is_pure_no_file_is_read_once_inputs_are_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """All reading happens in load_report_inputs; build_report runs with file access disabled.

    The package's own reference data (geo codes, the committed calibration) is vocabulary, read
    once and cached: the first build warms those caches, the second runs with no file access.
    """
    import builtins
    import io
    from pathlib import Path

    from ks_analysis import geo as geo_mod

    inputs = load_report_inputs(report_params(period="2019-T2", raw=DEMO_DIR))

    def refuse(*_: Any, **__: Any) -> Any:
        import traceback

        raise AssertionError(
            "build_report read a file:\n" + "".join(traceback.format_stack(limit=8))
        )

    cached_geos = geo_mod.geos()
    first = build_report(inputs)
    with monkeypatch.context() as m:
        m.setattr(geo_mod, "geos", lambda: cached_geos)
        for target, name in ((builtins, "open"), (io, "open"), (Path, "open")):
            m.setattr(target, name, refuse)
        for name in ("read_text", "read_bytes", "exists", "glob", "iterdir"):
            m.setattr(Path, name, refuse)
        try:
            second = build_report(inputs)
        except AssertionError as exc:
            failure: str | None = str(exc)
        else:
            failure = None
    assert failure is None, failure
    assert first == second
    assert first["period"] == "2019-T2" and first["changes"] is not None
