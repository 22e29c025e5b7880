"""Class 6, outputs replaced as a set, in this process: the output folder mechanism
(:func:`ks_analysis._io.output_folder`) that clean, report and explore publish through. Kills of
the real commands at every point are in test_kill.py."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ks_analysis import _io
from ks_analysis._io import output_folder

OUTPUTS = ("indicators.parquet", "manifest.json", "rejected.csv")


def _child_killed_inside(final: Path, marker: Path) -> None:
    """A child process that writes half a new folder inside output_folder and is killed there."""
    code = textwrap.dedent(
        f"""
        import os, signal, time
        from pathlib import Path
        from ks_analysis._io import output_folder
        with output_folder(Path({str(final)!r})) as tmp:
            (tmp / "rapport.html").write_text("half")
            Path({str(marker)!r}).write_text("in")
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(600):
        if marker.exists():
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_a_killed_publish_keeps_the_report_and_the_next_run_sweeps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A report run killed while building leaves the published report as it was and a .tmp-
    folder; the next run removes it, logs that, and swaps its report in."""
    final = tmp_path / "reports" / "0665" / "2019-T1"
    final.mkdir(parents=True)
    (final / "rapport.html").write_text("old", encoding="utf-8")
    _child_killed_inside(final, tmp_path / "marker")
    assert (final / "rapport.html").read_text(encoding="utf-8") == "old"
    litter = list(final.parent.glob(".2019-T1.tmp-*"))
    assert len(litter) == 1
    with caplog.at_level(logging.WARNING, logger="ks_analysis._io"), output_folder(final) as tmp:
        (tmp / "rapport.html").write_text("new", encoding="utf-8")
    assert (final / "rapport.html").read_text(encoding="utf-8") == "new"
    assert not list(final.parent.glob(".2019-T1.tmp-*"))
    assert "removed 1 temporary folder(s) left beside" in caplog.text


def test_a_kill_between_two_renames_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Where folders cannot be exchanged in one step, a kill between moving the old folder aside
    and moving the new one in leaves ``.<name>.old-*``; the next run restores it first."""
    monkeypatch.setattr(_io, "_rename_exchange", lambda a, b: False)
    final = tmp_path / "2019-T1"
    final.mkdir()
    (final / "rapport.html").write_text("old", encoding="utf-8")
    aside = tmp_path / ".2019-T1.old-123-456"
    os.rename(final, aside)  # what the killed run had done
    with (
        caplog.at_level(logging.WARNING, logger="ks_analysis._io"),
        pytest.raises(RuntimeError),
        output_folder(final),
    ):
        assert (final / "rapport.html").read_text(encoding="utf-8") == "old"
        raise RuntimeError("this run fails too")
    assert (final / "rapport.html").read_text(encoding="utf-8") == "old"
    assert "restored the previous" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2019-T1"]


def test_the_exchange_swaps_in_one_step(tmp_path: Path) -> None:
    """On Linux the two folders trade places in one call: there is no moment without a report."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("new", encoding="utf-8")
    (b / "x").write_text("old", encoding="utf-8")
    if not _io._rename_exchange(a, b):
        pytest.skip("this file system cannot exchange folders")
    assert (b / "x").read_text(encoding="utf-8") == "new"
    assert (a / "x").read_text(encoding="utf-8") == "old"


def test_clean_carries_other_files_and_refuses_foreign_folders(
    tmp_path: Path, cli: Callable[..., object]
) -> None:
    """A .gitkeep in clean's folder survives the swap; a sub-folder clean did not write is refused."""
    out = tmp_path / "out"
    out.mkdir()
    (out / ".gitkeep").write_text("", encoding="utf-8")
    run = cli("clean", "--out", str(out))
    assert run.code == 0  # type: ignore[attr-defined]
    assert sorted(p.name for p in out.iterdir()) == [".gitkeep", *OUTPUTS]
    (out / "mine").mkdir()
    run = cli("clean", "--out", str(out))
    assert run.code == 2 and "holds the folder 'mine'" in run.err  # type: ignore[attr-defined]


def test_explore_sweeps_what_a_killed_run_left_and_replaces_its_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An explore page is one file: a killed run's ``.<page>.tmp-*`` folder is removed by the next
    run (and logged), which then replaces the page; nothing but the page stays in ``--out``."""
    from ks_analysis.commands import explore

    def fake_execute(nb: Path, out: Path, params: dict[str, str], cwd: Path) -> Path:
        out.write_text("{}", encoding="utf-8")
        return out

    def fake_render(executed: Path, html: Path, title: str) -> Path:
        html.write_text(f"<html>{title}</html>", encoding="utf-8")
        return html

    # explore imports the notebook runner only once its parameters were checked
    from ks_analysis.publish import notebooks as runner

    monkeypatch.setattr(runner, "execute_notebook", fake_execute)
    monkeypatch.setattr(runner, "render_html", fake_render)
    monkeypatch.setattr(runner, "validate_parameters", lambda nb, params: None)
    params = {"indicator": "N03926", "municipality": "0665", "gender": "T"}
    stale = tmp_path / ".N03926-0665-T.html.tmp-killed"
    stale.mkdir()
    (stale / "04-explore-indicator.ipynb").write_text("{}", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="ks_analysis._io"):
        page = explore.render_exploration(params, tmp_path)
    assert page.read_text(encoding="utf-8").startswith("<html>Utforska N03926")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["N03926-0665-T.html"]
    assert "removed 1 temporary folder(s) left beside" in caplog.text


def test_a_run_also_sweeps_what_killed_runs_left_beside_other_periods(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A report run for 2019-T1 also removes a killed 2019-T2 run's temporary folder and lock
    file (taking that period's lock first, and saying so), but leaves alone the temporary
    folder of a 2019-Y run that is running now (its lock is held), and a lock file that is not
    beside a folder of ours."""
    import fcntl

    parent = tmp_path / "reports" / "0665"
    (parent / "2019-T2").mkdir(parents=True)
    (parent / "2019-T2" / "rapport.html").write_text("T2", encoding="utf-8")
    (parent / ".2019-T2.tmp-abcd1234").mkdir()
    (parent / ".2019-T2.lock").write_text("4242", encoding="utf-8")
    (parent / ".2019-Y.tmp-live0001").mkdir()
    (parent / ".other.lock").write_text("123", encoding="utf-8")  # not ours: never touched
    fd = os.open(parent / ".2019-Y.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"999")
        with (
            caplog.at_level(logging.WARNING, logger="ks_analysis._io"),
            output_folder(parent / "2019-T1") as tmp,
        ):
            (tmp / "rapport.html").write_text("T1", encoding="utf-8")
    finally:
        os.close(fd)
    assert sorted(p.name for p in parent.iterdir()) == [
        ".2019-Y.lock",
        ".2019-Y.tmp-live0001",
        ".other.lock",
        "2019-T1",
        "2019-T2",
    ]
    assert (parent / "2019-T2" / "rapport.html").read_text(encoding="utf-8") == "T2"
    assert "took over the lock file" in caplog.text and ".2019-T2.tmp-abcd1234" in caplog.text
