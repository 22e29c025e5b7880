"""End to end: the CLI renders the 2019 delår 1 report from the demo data, and failures change nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from ks_analysis.errors import NotebookError
from ks_analysis.evaluate.status import GOAL_STATUSES
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.params import report_params
from ks_analysis.paths import NOTEBOOKS_DIR
from ks_analysis.publish.report import _run_notebooks, publish_report
from ks_analysis.report.contract import contract_violations

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report_dir(demo_report_t1: Path) -> Path:
    return demo_report_t1


def test_outputs_are_where_the_architecture_says(report_dir: Path) -> None:
    """A published report folder holds rapport.html, report.json and the executed notebook."""
    assert (report_dir / "rapport.html").is_file()
    assert (report_dir / "report.json").is_file()
    assert (report_dir / "notebooks" / "03-goal-report.ipynb").is_file()


def test_the_data_quality_notebook_shows_the_reports_own_vintage(report_dir: Path) -> None:
    """The executed data-quality notebook got the report's as_of, and its rows read and kept
    are the report's own (the vintage cleaned once, not everything published cleaned again)."""
    nb = nbformat.read(str(report_dir / "notebooks" / "01-clean-indicators.ipynb"), as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'as_of = "2019-04-30"' in injected.source
    reasons = str(
        [c.outputs for c in nb.cells if c.cell_type == "code" and "rejected_by_reason" in c.source]
    )
    # The rows the report could not yet know are rejected with that reason, as in the report
    # (reasons are counted with their numbers masked; a clean of everything has no such rows).
    assert "published after --as-of N-N-N" in reasons
    rep = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert rep["data_quality"]["rows_not_yet_published"] > 0


def test_report_json_has_the_contract_keys(report_dir: Path) -> None:
    """report.json holds the contract's keys, the demo T1 parameters, input hashes and 8 goals with valid statuses and indicator fields."""
    rep = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    for key in (
        "municipality",
        "period",
        "cutoff",
        "as_of",
        "generated",
        "package_version",
        "parameters",
        "inputs",
        "demo_data",
        "goals",
    ):
        assert key in rep, key
    assert (rep["municipality"], rep["period"], rep["cutoff"], rep["as_of"], rep["demo_data"]) == (
        "0665",
        "2019-T1",
        "2019-04-30",
        "2019-04-30",
        True,
    )
    assert all(len(i["sha256"]) == 64 for i in rep["inputs"])
    assert [g["id"] for g in rep["goals"]] == list(range(1, 9))
    for g in rep["goals"]:
        assert {"id", "area", "kind", "status", "basis", "p_met", "indicators"} <= set(g)
        assert g["status"] in GOAL_STATUSES
        for ind in g["indicators"]:
            assert {
                "indicator",
                "gender",
                "target",
                "last_value",
                "forecast",
                "lo80",
                "hi80",
                "lo95",
                "hi95",
                "p_met",
                "status",
                "method",
            } <= set(ind)
    cat = load_catalogue()
    ids = {g.id: [i.id for i in g.indicators] for g in cat.goals}
    assert contract_violations(rep, ids) == []
    kinds = {g["id"]: (g["kind"], g["status"]) for g in rep["goals"]}
    assert all(kinds[i] == ("stödjande", "no_forecast") for i in (4, 5, 7, 8))
    assert all(kinds[i][1] != "no_forecast" for i in (1, 2, 3, 6))


def test_html_holds_every_goal_title_and_no_code(report_dir: Path) -> None:
    """The HTML shows every goal title and no code, prompts, tracebacks or warnings, and its first screen says demo data."""
    html = (report_dir / "rapport.html").read_text(encoding="utf-8")
    for goal in load_catalogue().goals:
        assert goal.title.replace("/", "/") in html.replace("&#x27;", "'"), goal.id
    for code_marker in (
        "build_report_from_parameters",
        "import ",
        "display(HTML",
        "injected-parameters",
        "jp-InputArea",
        "In&nbsp;[",
        "Traceback",
        "Warning",
    ):
        assert code_marker not in html, code_marker
    first_screen = html[: html.index('id="sammanfattning"')]
    assert "Demodata" in first_screen and "Om rapporten" in first_screen


def test_html_loads_nothing_from_the_network(report_dir: Path) -> None:
    """The HTML loads no script, stylesheet or image from the network and stays under 3 MB."""
    html = (report_dir / "rapport.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"?(https?:)?//", html)
    assert not re.search(r"src=\"?(https?:)?//", html)
    assert (report_dir / "rapport.html").stat().st_size < 3 * 1024 * 1024


def test_toc_links_resolve(report_dir: Path) -> None:
    """Every table-of-contents link points to an id in the page."""
    html = (report_dir / "rapport.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'id="([^"]+)"', html))
    links = re.findall(r'href="#([^"]+)"', html)
    assert links and all(link in ids for link in links)


def test_failing_cell_exits_nonzero_and_keeps_the_previous_report(
    report_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing notebook cell raises NotebookError naming the cell, and the previous report stays byte for byte with no temporary folder left."""
    before = {p.name: p.read_bytes() for p in report_dir.iterdir() if p.is_file()}
    nb_dir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, nb_dir)
    nb = nbformat.read(str(nb_dir / "03-goal-report.ipynb"), as_version=4)
    nb.cells.insert(4, nbformat.v4.new_code_cell("raise RuntimeError('planted failure')"))
    nbformat.write(nb, str(nb_dir / "03-goal-report.ipynb"))
    with pytest.raises(
        NotebookError, match=r"03-goal-report\.ipynb, cell 4: RuntimeError: planted failure"
    ):
        publish_report(
            report_params(period="2019-T1", out=report_dir.parent.parent), notebooks_dir=nb_dir
        )
    after = {p.name: p.read_bytes() for p in report_dir.iterdir() if p.is_file()}
    assert after == before
    leftovers = [p.name for p in report_dir.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_method_section_cites_the_backtested_track_record(report_dir: Path) -> None:
    """Readers see how good April forecasts have been, from the committed backtest summary."""
    from ks_analysis.backtest.replay import track_record_summary

    html = (report_dir / "rapport.html").read_text(encoding="utf-8")
    method = html[html.index('id="metod"') :]
    assert "Hur bra har prognoserna varit" in method
    cells = track_record_summary()["cells"]
    t1_monthly = next(c for c in cells if c["cutoff"] == "T1" and c["family"] == "monthly")
    assert f"{round(100 * t1_monthly['coverage80'])}\u00a0%" in method
    assert "ks-analysis" in method and "sha256" in method


@pytest.mark.slow
def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))
    return path


def _printed(path: Path, cell: int = 0) -> str:
    out = nbformat.read(str(path), as_version=4)
    return str(out.cells[cell].outputs[0]["text"]).strip()


def test_notebooks_run_in_one_kernel_in_cwd_and_leave_the_working_folder_alone(
    tmp_path: Path,
) -> None:
    """The notebooks of a report share one kernel, started in the notebooks folder; the later
    ones run while this process renders, and neither then nor after is the caller's working
    folder changed (papermill's ``cwd=`` changes the process's)."""
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    jobs = [
        (_notebook(nb_dir / f"{n}.ipynb", "import os, time\ntime.sleep(0.5)\nprint(os.getcwd(), os.getpid())"),
         tmp_path / f"{n}-out.ipynb", {})
        for n in ("a", "b", "c")
    ]  # fmt: skip
    before = os.getcwd()
    seen_meanwhile: list[tuple[str, bool]] = []

    def meanwhile() -> None:  # runs while b and c run in the kernel
        for _ in range(20):
            seen_meanwhile.append((os.getcwd(), jobs[2][1].exists()))
            time.sleep(0.05)

    _run_notebooks(jobs, nb_dir, None, meanwhile)
    assert os.getcwd() == before
    assert {cwd for cwd, _ in seen_meanwhile} == {before}
    assert not seen_meanwhile[0][1]  # the rendering did not wait for the later notebooks
    seen = [_printed(dst).split() for _, dst, _ in jobs]
    assert {cwd for cwd, _ in seen} == {str(nb_dir)}
    assert len({pid for _, pid in seen}) == 1  # one kernel for all three


def test_a_failed_later_notebook_fails_the_run_after_the_rendering(tmp_path: Path) -> None:
    """A data-quality notebook that fails while the report renders still fails the run, with
    the notebook's own message."""
    from ks_analysis.errors import NotebookError

    jobs = [
        (_notebook(tmp_path / "a.ipynb", "x = 1"), tmp_path / "a-out.ipynb", {}),
        (_notebook(tmp_path / "b.ipynb", "raise ValueError('late')"), tmp_path / "b-out.ipynb", {}),
    ]
    rendered: list[bool] = []
    with pytest.raises(NotebookError, match="b.ipynb.*ValueError: late"):
        _run_notebooks(jobs, tmp_path, None, lambda: rendered.append(True))
    assert rendered == [True]


def test_a_failed_notebook_leaves_nothing_in_the_kernel_for_the_next(tmp_path: Path) -> None:
    """After a notebook fails, the session's kernel is restarted: the next one cannot see its names."""
    from ks_analysis.errors import NotebookError
    from ks_analysis.publish.notebooks import KernelSession

    bad = _notebook(tmp_path / "bad.ipynb", "leftover = 41", "raise ValueError('boom')")
    good = _notebook(tmp_path / "good.ipynb", "print('leftover' in dir())")
    with KernelSession() as session:
        with pytest.raises(NotebookError, match="bad.ipynb.*ValueError: boom"):
            session.execute(bad, tmp_path / "bad-out.ipynb", {})
        session.execute(good, tmp_path / "good-out.ipynb", {})
    assert _printed(tmp_path / "good-out.ipynb") == "False"


def test_a_prestarted_kernel_has_the_package_loaded_and_no_name_left_behind(
    tmp_path: Path,
) -> None:
    """`prestart` starts the kernel in the notebooks' folder with the notebook API and pyplot
    loaded before the first cell, and leaves nothing in the namespace; a notebook run in another
    folder gets a fresh kernel there."""
    from ks_analysis.publish.notebooks import KernelSession

    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    probe = (
        "import os, sys\n"
        "print(os.getcwd(), os.getpid(), 'ks_analysis.notebook_api' in sys.modules,"
        " 'matplotlib.pyplot' in sys.modules, '_ks_preload' in dir())"
    )
    first = _notebook(nb_dir / "first.ipynb", probe)
    other = tmp_path / "other"
    other.mkdir()
    second = _notebook(other / "second.ipynb", probe)
    with KernelSession() as session:
        session.prestart(nb_dir)
        session.execute(first, tmp_path / "first-out.ipynb", {}, cwd=nb_dir)
        session.execute(second, tmp_path / "second-out.ipynb", {}, cwd=other)
    cwd1, pid1, api, plt, leftover = _printed(tmp_path / "first-out.ipynb").split()
    assert (cwd1, api, plt, leftover) == (str(nb_dir), "True", "True", "False")
    cwd2, pid2, *_ = _printed(tmp_path / "second-out.ipynb").split()
    assert cwd2 == str(other) and pid2 != pid1


def test_work_queued_in_the_kernel_runs_before_the_next_notebook(tmp_path: Path) -> None:
    """`send_quietly` needs a started kernel; what it queues runs before the next notebook's
    cells (which see its effects) and is in no notebook's output."""
    from ks_analysis.publish.notebooks import KernelSession

    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    probe = _notebook(nb_dir / "probe.ipynb", "import os\nprint(os.environ.get('KS_QUEUED'))")
    with KernelSession() as session:
        assert session.send_quietly("import os; os.environ['KS_QUEUED'] = 'early'") is False
        session.prestart(nb_dir)
        assert session.send_quietly("import os, time; time.sleep(0.5)") is True
        assert session.send_quietly("os.environ['KS_QUEUED'] = 'queued'; del os, time") is True
        session.execute(probe, tmp_path / "probe-out.ipynb", {}, cwd=nb_dir)
    assert _printed(tmp_path / "probe-out.ipynb") == "queued"
    out = nbformat.read(str(tmp_path / "probe-out.ipynb"), as_version=4)
    assert "queued" not in "".join(c.source for c in out.cells)


def test_notebooks_in_one_started_kernel_keep_every_output_from_the_first_cell_on(
    tmp_path: Path,
) -> None:
    """The session's notebooks connect to the started kernel without papermill's quiet-IOPub
    wait (publish.engine): nothing a cell prints is lost, from the first cell of the first
    notebook to the last of the fifth, and a failing cell still names itself."""
    from ks_analysis.errors import NotebookError
    from ks_analysis.publish.notebooks import KernelSession

    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    with KernelSession() as session:
        session.prestart(nb_dir)
        for i in range(5):
            nb = _notebook(nb_dir / f"n{i}.ipynb", f"print('first {i}')", f"print('last {i}')")
            session.execute(nb, tmp_path / f"n{i}-out.ipynb", {}, cwd=nb_dir)
            assert _printed(tmp_path / f"n{i}-out.ipynb", 0) == f"first {i}"
            assert _printed(tmp_path / f"n{i}-out.ipynb", 1) == f"last {i}"
        bad = _notebook(nb_dir / "bad.ipynb", "print('fine')", "raise KeyError('planted')")
        with pytest.raises(NotebookError, match="bad.ipynb.*cell 2.*KeyError"):
            session.execute(bad, tmp_path / "bad-out.ipynb", {}, cwd=nb_dir)
