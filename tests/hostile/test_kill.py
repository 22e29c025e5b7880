"""Class 6, kill -9 at any point: ``clean`` and ``report`` run as child processes on a copy of the
demo data, with a previous good output in place, and their whole process group (the notebook
kernels too) is SIGKILLed at named points of the output machinery (``KS_ANALYSIS_FAULT``, see
:data:`ks_analysis._io.FAULT_ENV`) and at times spread over a measured run; a report's kernel is
also killed alone. After each kill the output folder holds exactly the old set or a complete new
set (every file hashed; report.json and the notebooks parse, rapport.html ends with ``</html>``),
and the next run exits 0, says what litter it removed and leaves none.

Each report run starts a notebook kernel, so the report test takes several minutes on two
cores; the kill points are chained (the run after a kill is the next kill, whose log must show
the sweep) and one final run must succeed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow.parquet as pq
import pytest

CLEAN_OUTPUTS = ("indicators.parquet", "manifest.json", "rejected.csv")
REPORT_SECONDS = 600  # one report run on a loaded 2-core machine, with slack
MAX_SECONDS = 120  # a run killed at a fault point before or after its notebooks
Hash = Callable[[Path], dict[str, str]]


def _start(argv: Sequence[str], log: Path, fault: str = "") -> subprocess.Popen[bytes]:
    """``ks-analysis ARGV`` as the leader of its own process group (not quiet: the log is read)."""
    env = {k: v for k, v in os.environ.items() if k != "KS_ANALYSIS_FAULT"}
    if fault:
        env["KS_ANALYSIS_FAULT"] = fault
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "ks_analysis.cli", *argv],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            start_new_session=True,
        )


def _killpg(proc: subprocess.Popen[bytes]) -> None:
    """kill -9 the run's whole process group (the CLI and its notebook kernels)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def _wait_killed(proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """The run was killed at its fault point (SIGKILL), not finished or failed otherwise."""
    code = proc.wait(timeout=timeout)
    _killpg(proc)  # any kernel left in the group
    assert code == -signal.SIGKILL, (code, log.read_text(errors="replace"))


def _litter(final: Path) -> list[str]:
    """What lies beside ``final`` that is not ``final``: temporary folders, lock files, old folders."""
    return sorted(p.name for p in final.parent.iterdir() if p.name != final.name)


def _clean_complete(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(CLEAN_OUTPUTS)
    pq.read_table(folder / "indicators.parquet")
    json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (folder / "rejected.csv").read_bytes().endswith(b"\n")


def _report_complete(folder: Path, names: set[str]) -> None:
    """Every file a report has, each whole: the sidecar and notebooks parse, the HTML is closed,
    the workbook is a readable zip."""
    have = {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
    assert have == names, sorted(have ^ names)
    json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert (folder / "rapport.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    for nb in (folder / "notebooks").glob("*.ipynb"):
        json.loads(nb.read_text(encoding="utf-8"))
    with zipfile.ZipFile(folder / "rapport.xlsx") as z:
        assert z.testzip() is None


def _clean_argv(raw: Path, out: Path, *extra: str) -> list[str]:
    return ["clean", "--raw", str(raw), "--out", str(out), *extra]


@pytest.mark.slow
def test_kill_9_at_every_point_of_clean(demo_copy: Path, tmp_path: Path, tree_hash: Hash) -> None:
    """clean killed at each point of its output swap and at 40 % and 80 % of a measured run:
    the folder is the old set or the new set byte for byte, and the next run ends with the new
    set, logs what it removed and leaves nothing beside the folder."""
    refs = tmp_path / "refs"
    refs.mkdir()
    old_ref, new_ref = refs / "old", refs / "new"
    log = tmp_path / "log.txt"
    assert _start(_clean_argv(demo_copy, old_ref, "--as-of", "2019-05-31"), log).wait(300) == 0
    t = time.monotonic()
    assert _start(_clean_argv(demo_copy, new_ref), log).wait(300) == 0
    duration = time.monotonic() - t
    old, new = tree_hash(old_ref), tree_hash(new_ref)
    assert old != new
    out = tmp_path / "work" / "processed"
    # (how the run is stopped, which set must be in place after the kill, what the next run says)
    plan: list[tuple[str | float, str, tuple[str, ...]]] = [
        ("locked", "old", ("took over the lock file",)),
        ("tmp", "old", ("took over the lock file", "removed 1 temporary folder")),
        ("before-swap", "old", ("took over the lock file", "removed 1 temporary folder")),
        ("exchanged", "new", ("took over the lock file", "removed 1 temporary folder")),
        ("swapped", "new", ("took over the lock file",)),
        (0.4, "either", ()),
        (0.8, "either", ()),
    ]
    seen = []
    for how, expected, said in plan:
        shutil.rmtree(out.parent, ignore_errors=True)
        out.parent.mkdir()
        shutil.copytree(old_ref, out)
        if isinstance(how, str):
            proc = _start(_clean_argv(demo_copy, out), log, fault=f"{how}:kill")
            _wait_killed(proc, log, MAX_SECONDS)
        else:
            proc = _start(_clean_argv(demo_copy, out), log)
            time.sleep(duration * how)
            _killpg(proc)
        now = tree_hash(out)
        assert now in (old, new), f"a mix of old and new after a kill at {how}"
        got = "new" if now == new else "old"
        assert expected in (got, "either"), (how, got)
        seen.append(f"{how}={got}")
        _clean_complete(out)
        rerun = _start(_clean_argv(demo_copy, out), log)
        assert rerun.wait(300) == 0, log.read_text()
        text = log.read_text()
        assert "Traceback" not in text
        for phrase in said:
            assert phrase in text, (how, phrase, text)
        assert tree_hash(out) == new
        assert _litter(out) == [], (how, _litter(out))
    print("clean kill points:", ", ".join(seen), f"(run {duration:.1f} s)")


def _kernels(parent: int) -> list[int]:
    """The notebook kernels ``parent`` started (its children running ipykernel)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"ipykernel" in cmd:
            found.append(int(d.name))
    return found


def _wait_for(check: object, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the kernels in /proc")
def test_kill_9_at_every_point_of_report(demo_copy: Path, tmp_path: Path, tree_hash: Hash) -> None:
    """report --period 2019-T1 killed (whole group) after taking its lock, after making its
    temporary folder, while its notebooks run, with the HTML rendered just before the swap and
    just after the folders traded places; and its kernel killed alone. Each time the published
    folder is the old report byte for byte or a complete new one; every next run logs the sweep
    of what the kill before left, and the last run succeeds and leaves no litter."""
    out = tmp_path / "reports"
    final = out / "0665" / "2019-T1"
    log = tmp_path / "log.txt"
    argv = ["report", "--period", "2019-T1", "--raw", str(demo_copy), "--out", str(out)]
    t = time.monotonic()
    first = _start(argv, log)
    assert first.wait(REPORT_SECONDS) == 0, log.read_text()
    duration = time.monotonic() - t
    current = tree_hash(final)
    names = set(current)
    _report_complete(final, names)
    assert {"rapport.html", "report.json", "notebooks/03-goal-report.ipynb"} <= names
    owed: list[str] = []  # what the next run's log must say it cleaned up
    points = []

    def after_kill(run_log: Path, changed: bool) -> None:
        nonlocal current
        text = run_log.read_text(errors="replace")
        assert "Traceback" not in text
        for phrase in owed:
            assert phrase in text, (phrase, text)
        owed.clear()
        now = tree_hash(final)
        if changed:
            assert now != current
            _report_complete(final, names)
            current = now
        else:
            assert now == current, "the published report changed"

    # 1-2: killed with the lock held, then with the temporary folder made (before any kernel).
    for point in ("locked", "tmp"):
        run_log = tmp_path / f"log-{point}.txt"
        _wait_killed(_start(argv, run_log, fault=f"{point}:kill"), run_log, MAX_SECONDS)
        after_kill(run_log, changed=False)
        owed.append("took over the lock file")
        if point == "tmp":
            assert len(list(final.parent.glob(".2019-T1.tmp-*"))) == 1
            owed.append("removed 1 temporary folder")
        points.append(point)

    # 3: the kernel killed alone (one for all the run's notebooks), while it runs: the run fails with one message (exit 1),
    # removes its temporary folder and lock itself, and the published report stays.
    run_log = tmp_path / "log-kernel.txt"
    proc = _start(argv, run_log)
    _wait_for(
        lambda: "Executing notebook with kernel" in run_log.read_text(),
        REPORT_SECONDS,
        "the kernel running the report notebook's cells",
    )
    # At once: with the report's model built by the command itself, the kernel runs the report
    # notebook's cells for a second or two only.
    time.sleep(0.2)
    for pid in _kernels(proc.pid):
        os.kill(pid, signal.SIGKILL)
    code = proc.wait(REPORT_SECONDS)
    _killpg(proc)
    text = run_log.read_text()
    assert code == 1, (code, text)
    errors = [line for line in text.splitlines() if line.startswith("ks-analysis: error:")]
    assert len(errors) == 1 and "kernel process ended" in errors[0], text
    after_kill(run_log, changed=False)
    assert _litter(final) == [], _litter(final)
    points.append("kernel alone")

    # 4: the whole group killed while the notebooks run (their kernel has started).
    run_log = tmp_path / "log-notebooks.txt"
    proc = _start(argv, run_log)
    _wait_for(lambda: len(_kernels(proc.pid)) >= 1, REPORT_SECONDS, "the run's kernel")
    time.sleep(duration * 0.3)
    assert proc.poll() is None, "the run ended before the kill"
    _killpg(proc)
    after_kill(run_log, changed=False)
    owed += ["took over the lock file", "removed 1 temporary folder"]
    points.append(f"notebooks running (+{duration * 0.3:.0f} s)")

    # 5: everything rendered in the temporary folder, just before the swap.
    run_log = tmp_path / "log-before-swap.txt"
    _wait_killed(_start(argv, run_log, fault="before-swap:kill"), run_log, REPORT_SECONDS)
    after_kill(run_log, changed=False)
    (tmp,) = final.parent.glob(".2019-T1.tmp-*")
    _report_complete(tmp, names)  # the kill came with the new report complete beside the old
    owed += ["took over the lock file", "removed 1 temporary folder"]
    points.append("before-swap")

    # 6: just after the folders traded places: the new report is published, the old one is the
    # temporary folder left behind.
    run_log = tmp_path / "log-exchanged.txt"
    _wait_killed(_start(argv, run_log, fault="exchanged:kill"), run_log, REPORT_SECONDS)
    after_kill(run_log, changed=True)
    owed += ["took over the lock file", "removed 1 temporary folder"]
    points.append("exchanged")

    # The next run succeeds, says what it removed, and nothing is left beside the report.
    run_log = tmp_path / "log-final.txt"
    last = _start(argv, run_log)
    assert last.wait(REPORT_SECONDS) == 0, run_log.read_text()
    after_kill(run_log, changed=True)
    assert _litter(final) == [], _litter(final)
    print("report kill points:", ", ".join(points), f"(run {duration:.1f} s)")
