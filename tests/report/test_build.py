"""Tests of report/build.py: the pure report build, and the rules auditors check in it (vintages of the previous forecast, roll-up votes, other kommuner, wording)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ks_analysis.cli import main
from ks_analysis.errors import ParameterError
from ks_analysis.evaluate.status import Part
from ks_analysis.goals.catalogue import Indicator, Target
from ks_analysis.params import report_params
from ks_analysis.paths import DEMO_DIR
from ks_analysis.report.build import build_report, load_report_inputs
from ks_analysis.report.goals import _decisive_part
from ks_analysis.report.model import Report
from ks_analysis.report.sections import first_screen, summary_table
from ks_analysis.swedish import status_count_sv


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
    words = status_count_sv("met", "outcome", outcome_met)
    assert f"{outcome_met} {words}" in text
    assert f"{outcome_met} {words}" in first_screen(rep)


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


def test_the_total_decides_and_women_and_men_alone_must_both_reach() -> None:
    """An indicator counts once in its goal's rule: its total where it has one; reported only for
    women and men, it is met in a draw only when both are."""
    ind = Indicator("X", "t", "%", "Y", "point", "higher_is_better", "target", Target("increase"))
    always = Part("X", "met", lambda u: np.ones(u.shape, bool), {})
    never = Part("X", "not_met", lambda u: np.zeros(u.shape, bool), {})
    u = np.linspace(0, 1, 11)
    total = _decisive_part(ind, {"T": always, "K": never, "M": never})
    assert total.met is not None and total.met(u).all()
    halves = _decisive_part(ind, {"K": always, "M": never})
    assert halves.met is not None and not halves.met(u).any()
    both = _decisive_part(ind, {"K": always, "M": always})
    assert both.met is not None and both.met(u).all() and both.status == "met"


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
