"""Class 5, resource bombs: a YAML alias bomb in any YAML input, a spreadsheet with a far-away cell
or a huge declared range, a zip bomb: each is one exit-2 line, and the process never dies by a
signal or hangs (run as a child process, so that a crash cannot hide). How fast each is refused
is measured by ``benchmarks/bench_hostile.py`` (timings do not belong in tests)."""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

#: "Billion laughs": 9 levels of 9 aliases, about 1 kB that would expand to 9**9 strings.
ALIAS_BOMB = (
    "\n".join(
        ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    )
    + "\n"
)


def _check(run: subprocess.CompletedProcess[str], *words: str) -> None:
    assert run.returncode == 2, (run.returncode, run.stderr)  # never a signal (negative)
    line = run.stderr.strip().splitlines()[-1]
    assert "Traceback" not in run.stderr and line.startswith("ks-analysis: error: ")
    for w in words:
        assert w in line, line


def test_alias_bomb_in_the_goal_catalogue(
    tmp_path: Path, cli_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """The catalogue given with --goals."""
    f = tmp_path / "goals.yaml"
    f.write_text(ALIAS_BOMB, encoding="utf-8")
    run = cli_process("goals", "--goals", str(f))
    _check(run, "goals.yaml", "expand to more than", "YAML bomb")


def test_alias_bomb_in_sources_yaml(
    tmp_path: Path, cli_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """The manifest of a raw folder, hidden inside an entry's options."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "sources.yaml").write_text(
        ALIAS_BOMB + "sources:\n  - name: s\n    files: x.csv\n    reader: long_csv\n"
        "    options: {big: *a8}\n    publication_lag: {days: 3}\n",
        encoding="utf-8",
    )
    run = cli_process("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    _check(run, "sources.yaml", "YAML bomb")


def test_alias_bomb_in_a_self_assessment(
    tmp_path: Path, cli_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """The previous period's self-assessment that `assessments new` pre-fills from."""
    folder = tmp_path / "assessments"
    folder.mkdir()
    (folder / "2019-T1.yaml").write_text(
        ALIAS_BOMB + "period: 2019-T1\ngoals:\n  - goal: 4\n    text: *a8\n", encoding="utf-8"
    )
    run = cli_process("assessments", "new", "--period", "2019-T2", "--assessments", str(folder))
    _check(run, "2019-T1.yaml", "YAML bomb")
    assert not (folder / "2019-T2.yaml").exists()


#: Each reader's own options (a manifest option a reader does not take is refused).
_OPTIONS = {
    "table": "{region_code_col: regionkod, year_col: år, values: {andel: {indicator: TEST_X, unit: '%'}}}",
    "tillvaxtanalys_quarterly": "{indicator: TEST_X, unit: antal, sheet: Kommun}",
}


def _table_raw(tmp_path: Path, name: str, reader: str = "table") -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "sources.yaml").write_text(
        f"sources:\n  - name: s\n    files: {name}\n    reader: {reader}\n"
        f"    options: {_OPTIONS[reader]}\n"
        "    publication_lag: {days: 3}\n",
        encoding="utf-8",
    )
    return raw


@pytest.mark.parametrize(
    ("far", "reader"),
    [
        ("XFD1048576", "table"),
        ("ZZ1048576", "table"),
        ("ZZ1+A1048576", "table"),  # two cells: far right, far down; the grid spans both
        ("XFD1048576", "tillvaxtanalys_quarterly"),
    ],
)
def test_a_far_away_cell_in_a_workbook(
    tmp_path: Path,
    cli_process: Callable[..., subprocess.CompletedProcess[str]],
    far: str,
    reader: str,
) -> None:
    """A 9 kB workbook with one cell far away aborted the process (SIGABRT); now one line."""
    raw = _table_raw(tmp_path, "t.xlsx", reader)
    wb = Workbook()
    ws = wb.active
    ws.title = "Kommun"
    ws.append(["regionkod", "år", "andel"])
    ws.append(["0665", 2018, 2.5])
    for cell in far.split("+"):
        ws[cell] = 1
    wb.save(raw / "t.xlsx")
    assert (raw / "t.xlsx").stat().st_size < 20_000
    run = cli_process("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    _check(run, "t.xlsx", "cells, over the limit of 50 000 000")


def test_a_declared_dimension_bomb(
    tmp_path: Path, cli_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """A sheet whose <dimension> declares A1:XFD1048576 (with two cells in it) is refused by the declaration."""
    raw = _table_raw(tmp_path, "t.xlsx")
    wb = Workbook()
    wb.active.append(["regionkod", "år", "andel"])
    wb.save(tmp_path / "plain.xlsx")
    with (
        zipfile.ZipFile(tmp_path / "plain.xlsx") as src,
        zipfile.ZipFile(raw / "t.xlsx", "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:C1" />' in data
                data = data.replace(
                    b'<dimension ref="A1:C1" />', b'<dimension ref="A1:XFD1048576" />'
                )
            dst.writestr(info, data)
    run = cli_process("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    _check(run, "t.xlsx", "declares the range A1:XFD1048576")


@pytest.mark.parametrize(
    "member", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "docProps/junk.bin"]
)
def test_a_zip_bomb_workbook(
    tmp_path: Path, cli_process: Callable[..., subprocess.CompletedProcess[str]], member: str
) -> None:
    """A 2 MB workbook with a part that unpacks to 2 GB is refused before any parser unpacks it."""
    raw = _table_raw(tmp_path, "t.xlsx")
    wb = Workbook()
    wb.active.append(["regionkod", "år", "andel"])
    wb.save(tmp_path / "plain.xlsx")
    with (
        zipfile.ZipFile(tmp_path / "plain.xlsx") as src,
        zipfile.ZipFile(raw / "t.xlsx", "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info.filename))
        with dst.open(member, "w", force_zip64=True) as fh:
            block = b" " * (1 << 20)
            for _ in range(2048):
                fh.write(block)
    assert (raw / "t.xlsx").stat().st_size < 3_000_000
    run = cli_process("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    _check(run, "t.xlsx", "zip bomb")
