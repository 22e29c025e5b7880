"""The report model handed from `ks-analysis report` to its notebook's kernel (report.handoff)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from ks_analysis import notebook_api
from ks_analysis.clean import run as clean_run
from ks_analysis.ingest import memo
from ks_analysis.params import report_params
from ks_analysis.report import handoff
from ks_analysis.report.html import Markup
from ks_analysis.report.sidecar import write_report_json


def _params(period: str = "2019-T1") -> dict[str, str]:
    return report_params(period=period).notebook_parameters()


def test_a_model_is_taken_only_for_its_own_parameters_and_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same parameters get the model back (the file readable by this user only); other
    parameters, another package version,
    a missing, empty or foreign file, or no path at all get None (the notebook builds it)."""
    path = tmp_path / "model.pickle"
    handoff.write_prebuilt(path, _params(), {"goals": ["a"]}, [], {"k": Markup("<figure/>")})
    assert path.stat().st_mode & 0o077 == 0
    assert handoff.read_prebuilt(str(path), _params()) == (
        {"goals": ["a"]},
        [],
        {"k": Markup("<figure/>")},
    )
    assert handoff.read_prebuilt(str(path), _params("2019-T2")) is None
    assert handoff.read_prebuilt("", _params()) is None
    assert handoff.read_prebuilt(str(tmp_path / "gone.pickle"), _params()) is None
    (tmp_path / "empty.pickle").write_bytes(b"")
    assert handoff.read_prebuilt(str(tmp_path / "empty.pickle"), _params()) is None
    (tmp_path / "text.pickle").write_text("not a pickle", encoding="utf-8")
    assert handoff.read_prebuilt(str(tmp_path / "text.pickle"), _params()) is None
    monkeypatch.setattr(handoff, "package_version", lambda: "0.0.0-other")
    assert handoff.read_prebuilt(str(path), _params()) is None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_handed_over_vintage_is_what_the_data_quality_notebook_cleans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notebook's build cell keeps the vintage handed over with the model, so that the
    data-quality notebook in the same kernel gets it without reading the raw folder."""
    params = _params()
    typed = notebook_api.notebook_report_params(**params)
    built = clean_run.clean_once(typed.raw, typed.sources, as_of=typed.as_of)
    vintage = clean_run.cleaned_vintage(typed.raw, typed.sources, typed.as_of)
    assert vintage is not None
    path = handoff.write_prebuilt(tmp_path / "m.pickle", params, {"period": "x"}, [vintage])
    # A kernel of its own: nothing read or cleaned before.
    monkeypatch.setattr(clean_run, "_CLEANED", clean_run.Memo(6))
    monkeypatch.setattr(memo, "_CACHE", memo.Memo(2))

    def no_reading(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("read the raw folder again")

    monkeypatch.setattr(clean_run, "read_sources", no_reading)
    assert notebook_api.build_report_from_parameters(prebuilt=str(path), **params) == {
        "period": "x"
    }
    result = notebook_api.clean_raw(params["raw"], params["sources"], params["as_of"])
    assert result.tidy.equals(built.tidy) and result.rejected.equals(built.rejected)


def _comparable(path: Path) -> dict[str, Any]:
    rep = json.loads(path.read_text(encoding="utf-8"))
    rep.pop("generated")
    return rep


@pytest.mark.slow
def test_the_published_report_is_the_model_the_notebook_would_build(
    demo_report_t1: Path, tmp_path: Path
) -> None:
    """The report notebook got the command's model (its `prebuilt` parameter), and report.json
    is what building it here gives; the handed-over file is not left in the report folder."""
    nb = nbformat.read(str(demo_report_t1 / "notebooks" / "03-goal-report.ipynb"), as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "prebuilt = " in injected.source
    assert not Path(injected.source.split('prebuilt = "', 1)[1].split('"', 1)[0]).exists()
    assert not list(demo_report_t1.rglob("*.pickle"))
    here = notebook_api.build_report_from_parameters(**_params())
    write_report_json(here, tmp_path / "report.json")
    assert _comparable(tmp_path / "report.json") == _comparable(demo_report_t1 / "report.json")


def test_a_model_built_ahead_is_taken_by_its_own_parameters_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`report --year` builds the next period's model in a thread: the same model as building
    it then, taken once and only by its parameters; bad input found ahead is raised when taken."""
    from ks_analysis.errors import DataFileError
    from ks_analysis.publish import report as publish

    ahead = publish.ModelsAhead()
    ahead.start(_params("2019-T2"))
    assert ahead.take(_params("2019-T1")) is None
    pending = ahead.take(_params("2019-T2"))
    assert pending is not None and ahead.take(_params("2019-T2")) is None
    model = pending.result(timeout=120)
    assert model is not None
    here = publish._build_model(_params("2019-T2"))
    assert here is not None
    for a, b in ((model[0], here[0]),):
        a, b = dict(a), dict(b)
        a.pop("generated"), b.pop("generated")
        assert json.dumps(a, default=str, sort_keys=True) == json.dumps(
            b, default=str, sort_keys=True
        )

    def bad(*_a: Any) -> Any:
        raise DataFileError(Path("x.csv"), "planted bad input", fix="fix it")

    from ks_analysis.report import build

    monkeypatch.setattr(build, "load_report_inputs", bad)
    ahead.start(_params("2019-Y"))
    failed = ahead.take(_params("2019-Y"))
    assert failed is not None
    with pytest.raises(DataFileError, match="planted bad input"):
        failed.result(timeout=60)


def test_charts_drawn_ahead_are_shown_as_drawn_and_only_for_their_goal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kernel that got charts drawn ahead shows them for the same goal entry and year without
    drawing; a changed goal entry (or another year) is drawn afresh."""
    from ks_analysis.report import charts

    rep = notebook_api.build_report_from_parameters(**_params())
    goal = next(g for g in rep["goals"] if g["kind"] == "styrande")
    drawn = charts.draw_ahead([goal], 2019)
    monkeypatch.setattr(charts, "_DRAWN", charts.Memo(64))  # a kernel of its own
    charts.keep_drawn(drawn)

    def no_drawing(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("drew a chart again")

    monkeypatch.setattr(charts, "indicator_chart", no_drawing)
    assert charts.goal_charts(goal, 2019) == next(iter(drawn.values()))
    with pytest.raises(AssertionError, match="drew a chart again"):
        charts.goal_charts(goal, 2020)
    changed = {
        **goal,
        "indicators": [{**goal["indicators"][0], "forecast": 1.0}, *goal["indicators"][1:]],
    }
    with pytest.raises(AssertionError, match="drew a chart again"):
        charts.goal_charts(changed, 2019)


def test_goals_handed_to_the_kernel_are_drawn_there_and_shown_by_the_report_cell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command hands the goals to the kernel as soon as they are judged (as text in the
    message that asks for their charts); the kernel draws them, and the report cell then shows
    every steering goal's charts without drawing, although the finished model adds each goal's
    analysis. Text of another package version, or no goals at all, draws nothing and fails
    nothing."""
    from ks_analysis.publish import report as publish
    from ks_analysis.report import charts

    handed: list[list[Any]] = []
    model = publish._build_model(_params(), on_judged=lambda goals: handed.append(goals))
    assert model is not None and len(handed) == 1
    text = handoff.chart_goals_text(handed[0], 2019)
    monkeypatch.setattr(charts, "_DRAWN", charts.Memo(64))  # the kernel's own memo
    notebook_api.draw_charts_ahead("not base64 at all!")
    notebook_api.draw_charts_ahead("")
    with monkeypatch.context() as m:
        m.setattr(handoff, "package_version", lambda: "0.0.0-other")
        notebook_api.draw_charts_ahead(text)
    assert len(charts._DRAWN) == 0
    notebook_api.draw_charts_ahead(text)

    def no_drawing(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("drew a chart again")

    monkeypatch.setattr(charts, "indicator_chart", no_drawing)
    steering = [g for g in model[0]["goals"] if g["kind"] == "styrande"]
    assert steering and all(g.get("analysis") for g in steering)  # the demo has one per goal
    for goal in steering:
        assert "data:image/png;base64," in charts.goal_charts(goal, 2019)
