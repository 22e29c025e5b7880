"""Every class again, with members the first round did not have: a FIFO or a folder where a file
is expected, a file that vanishes between listing and reading, a 0-byte workbook, a UTF-16
manifest, NUL bytes in a CSV, a 10 MB YAML scalar, duplicate goal ids, a self-assessment that is
a list, an ``--out`` that is a file for every command that writes, and a full disk (``ENOSPC``
injected with ``KS_ANALYSIS_FAULT``) under every writer. Each run is held to the suite's contract
(conftest.check_contract): exit 0, 1 or 2, no traceback, one error line, never a signal; the ones
that could hang or crash run as child processes with the 30 s bound."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ks_analysis.goals.catalogue import DEFAULT_CATALOGUE

ROWS = "municipality,indicator,period,value\n0665,N03926,2018,2.5\n"
Proc = Callable[..., subprocess.CompletedProcess[str]]


def _one(err: str, *words: str) -> str:
    line = err.strip().splitlines()[-1]
    for w in words:
        assert w in line, line
    return line


# --- a file that is not a file ---------------------------------------------------------------


def test_a_fifo_where_a_data_file_is_expected(
    raw_with: Callable[..., Path], tmp_path: Path, cli_process: Proc
) -> None:
    """A named pipe matched by the manifest is refused, not read (which would block for ever)."""
    raw = raw_with({"other.txt": "x"}, pattern="l.csv")
    os.mkfifo(raw / "l.csv")
    run = cli_process("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    assert run.returncode == 2
    _one(run.stderr, "l.csv", "not a regular file")


@pytest.mark.parametrize("option", ["--sources", "--goals"])
def test_a_fifo_as_a_configuration_file(tmp_path: Path, cli_process: Proc, option: str) -> None:
    """--sources or --goals naming a pipe: refused, not waited on."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    argv = ["clean", option, str(fifo), "--out", str(tmp_path / "o")]
    if option == "--goals":
        argv = ["goals", "--goals", str(fifo)]
    run = cli_process(*argv)
    assert run.returncode == 2
    _one(run.stderr, "pipe.yaml")


def test_a_folder_where_a_data_file_is_expected(
    raw_with: Callable[..., Path], tmp_path: Path, cli: Callable[..., Any]
) -> None:
    raw = raw_with({"other.txt": "x"}, pattern="l.csv")
    (raw / "l.csv").mkdir()
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    assert run.code == 2
    _one(run.err, "l.csv")


@pytest.mark.parametrize(
    "argv",
    [
        ["goals", "--goals", "{d}"],
        ["clean", "--sources", "{d}", "--out", "{tmp}/o"],
        ["report", "--period", "2019-T1", "--goals", "{d}", "--out", "{tmp}/r"],
        ["report", "--period", "2019-T1", "--sources", "{d}", "--out", "{tmp}/r"],
    ],
)
def test_a_folder_as_a_configuration_file(
    tmp_path: Path, cli: Callable[..., Any], argv: list[str]
) -> None:
    d = tmp_path / "conf.yaml"
    d.mkdir()
    run = cli(*[a.format(d=d, tmp=tmp_path) for a in argv])
    assert run.code == 2
    _one(run.err, "conf.yaml")
    assert not (tmp_path / "r").exists() and not (tmp_path / "o").exists()


def test_a_self_assessment_that_is_a_folder(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """`assessments new` pre-filling from a 'file' that is a folder names it."""
    folder = tmp_path / "a"
    (folder / "2019-T1.yaml").mkdir(parents=True)
    run = cli("assessments", "new", "--period", "2019-T2", "--assessments", str(folder))
    assert run.code == 2
    _one(run.err, "2019-T1.yaml")


def test_a_file_that_vanishes_between_listing_and_reading(
    raw_with: Callable[..., Path],
    tmp_path: Path,
    cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The manifest's glob found the file, then it was removed (a sync client, a colleague):
    one line naming the file, and nothing written."""
    from ks_analysis.ingest import manifest, read

    raw = raw_with({"l.csv": ROWS})
    real = manifest.expand_files

    def listed_then_gone(*args: Any, **kwargs: Any) -> Any:
        files = real(*args, **kwargs)
        for f in files:
            Path(f).unlink(missing_ok=True)
        return files

    monkeypatch.setattr(read, "expand_files", listed_then_gone)
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    assert run.code in (1, 2)
    _one(run.err, "l.csv")
    assert not (tmp_path / "o").exists()


# --- bytes that are not what they claim --------------------------------------------------------


def test_a_zero_byte_workbook(tmp_path: Path, cli_process: Proc) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "t.xlsx").write_bytes(b"")
    (raw / "sources.yaml").write_text(
        "sources:\n  - name: s\n    files: t.xlsx\n    reader: table\n"
        "    options: {region_code_col: regionkod, year_col: år, values: {andel: {indicator: TEST_X, unit: '%'}}}\n"
        "    publication_lag: {days: 3}\n",
        encoding="utf-8",
    )
    run = cli_process("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    assert run.returncode == 2
    _one(run.stderr, "t.xlsx")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_manifest_or_catalogue_in_utf16(
    raw_with: Callable[..., Path], tmp_path: Path, cli: Callable[..., Any], encoding: str
) -> None:
    """YAML files saved as 'Unicode' by a Windows editor: refused naming the encoding."""
    raw = raw_with({"l.csv": ROWS})
    text = (raw / "sources.yaml").read_text(encoding="utf-8")
    (raw / "sources.yaml").write_bytes(text.encode(encoding))
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    assert run.code == 2
    _one(run.err, "sources.yaml")
    goals = tmp_path / "goals.yaml"
    goals.write_bytes(DEFAULT_CATALOGUE.read_text(encoding="utf-8").encode(encoding))
    run = cli("goals", "--goals", str(goals))
    assert run.code == 2
    _one(run.err, "goals.yaml")


@pytest.mark.parametrize(
    "text",
    [
        ROWS + "0665,N03926,2019,3\x00.5\n",
        ROWS.replace("municipality", "munic\x00ipality"),
        "\x00" * 1000,
    ],
    ids=["nul-in-value", "nul-in-header", "only-nuls"],
)
def test_nul_bytes_in_a_csv(
    raw_with: Callable[..., Path], tmp_path: Path, cli_process: Proc, text: str
) -> None:
    """NUL bytes (a truncated download, a binary file named .csv): refused or the row rejected,
    never a crash; rows are accounted for."""
    raw = raw_with({"l.csv": text.encode("utf-8")})
    run = cli_process("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
    assert run.returncode in (0, 2), run.stderr
    if run.returncode == 2:
        _one(run.stderr, "l.csv")


@pytest.mark.parametrize("where", ["sources", "goals", "assessment"])
def test_a_10_mb_yaml_scalar(tmp_path: Path, cli_process: Proc, where: str) -> None:
    """One 10 MB value in any YAML input is one line naming the file, within the time bound."""
    big = "x" * 10_000_000
    if where == "sources":
        raw = tmp_path / "raw"
        raw.mkdir()
        (raw / "sources.yaml").write_text(
            f"sources:\n  - name: s\n    files: l.csv\n    reader: long_csv\n    notes: {big}\n",
            encoding="utf-8",
        )
        run = cli_process("clean", "--raw", str(raw), "--out", str(tmp_path / "o"))
        name = "sources.yaml"
    elif where == "goals":
        (tmp_path / "goals.yaml").write_text(
            DEFAULT_CATALOGUE.read_text(encoding="utf-8") + f"notes: {big}\n", encoding="utf-8"
        )
        run = cli_process("goals", "--goals", str(tmp_path / "goals.yaml"))
        name = "goals.yaml"
    else:
        folder = tmp_path / "a"
        folder.mkdir()
        (folder / "2019-T1.yaml").write_text(
            f"period: 2019-T1\ngoals:\n  - goal: 4\n    text: {big}\n", encoding="utf-8"
        )
        run = cli_process("assessments", "new", "--period", "2019-T2", "--assessments", str(folder))
        name = "2019-T1.yaml"
    assert run.returncode == 2
    _one(run.stderr, name)


# --- configuration that parses but is wrong ----------------------------------------------------


def test_duplicate_goal_ids_in_the_catalogue(tmp_path: Path, cli: Callable[..., Any]) -> None:
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    data["goals"][1]["id"] = data["goals"][0]["id"]
    path = tmp_path / "goals.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    run = cli("goals", "--goals", str(path))
    assert run.code == 2
    _one(run.err, "goals.yaml", str(data["goals"][0]["id"]))


@pytest.mark.parametrize(
    "text",
    ["- goal: 4\n  text: Bra.\n", "just text\n", "42\n", ""],
    ids=["list", "text", "number", "empty"],
)
def test_a_self_assessment_of_the_wrong_shape(
    demo_copy: Path, tmp_path: Path, cli: Callable[..., Any], text: str
) -> None:
    """A self-assessment file that is a list, a text or a number names the file; an empty one
    also (it says nothing), in the report's own check and in `assessments new`."""
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "2019-T1.yaml").write_text(text, encoding="utf-8")
    run = cli("assessments", "new", "--period", "2019-T2", "--assessments", str(folder))
    assert run.code in (0, 2)
    if run.code == 2:
        _one(run.err, "2019-T1.yaml")
    else:  # an empty file pre-fills nothing: the new file is the blank template
        assert (folder / "2019-T2.yaml").is_file()


# --- outputs that cannot be written ------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["clean", "--out", "{f}"],
        ["report", "--period", "2019-T1", "--out", "{f}"],
        ["report", "--period", "2019-T1", "--out", "{f}/under"],
        ["explore", "N03926", "--out", "{f}"],
        ["demo", "--out", "{f}"],
        ["demo", "--out", "{f}/under"],
        ["init", "{f}"],
        ["init", "{f}/under"],
        ["assessments", "new", "--period", "2019-T2", "--assessments", "{f}"],
        ["kpi", "update", "--out", "{f}", "--base-url", "http://127.0.0.1:9"],
        ["fetch", "kolada", "--out", "{f}/kolada", "--base-url", "http://127.0.0.1:9"],
    ],
    ids=lambda a: " ".join(a[:2]) + (" under" if "under" in a[-1] or "/" in a[-1][3:] else ""),
)
def test_an_out_that_is_a_file(tmp_path: Path, cli: Callable[..., Any], argv: list[str]) -> None:
    """Every command that writes, given a file (or a folder under a file) where a folder must be:
    one line naming the path, exit 2, the file untouched."""
    f = tmp_path / "file"
    f.write_text("keep", encoding="utf-8")
    run = cli(*[a.format(f=f) for a in argv], "--retries", "0") if argv[0] == "fetch" else None
    if run is None:
        run = cli(*[a.format(f=f) for a in argv])
    assert run.code == 2, run.err
    _one(run.err, str(f))
    assert f.read_text(encoding="utf-8") == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(
    ("fault", "argv", "previous"),
    [
        ("before-swap:enospc", ["clean", "--out", "{out}"], True),
        ("tmp:enospc", ["clean", "--out", "{out}"], True),
        ("tmp:enospc", ["report", "--period", "2019-T1", "--out", "{out}"], False),
        ("file:enospc", ["init", "{out}"], False),
        ("file:enospc", ["demo", "--out", "{out}"], False),
        ("before-swap:enospc", ["demo", "--out", "{out}"], False),
        (
            "file:enospc",
            ["assessments", "new", "--period", "2019-T2", "--assessments", "{out}"],
            False,
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_full_disk_under_every_writer(
    tmp_path: Path, cli_process: Proc, fault: str, argv: list[str], previous: bool
) -> None:
    """ENOSPC at the last write (injected): one line "the disk is full; free some space", exit 1,
    the previous outputs byte for byte, and no temporary file, folder or lock left."""
    from ks_analysis._io import FAULT_ENV

    out = tmp_path / "out"
    args = [a.format(out=out) for a in argv]
    if previous:
        assert cli_process(*args).returncode == 0
    before = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    run = cli_process(*args, env={FAULT_ENV: fault})
    assert run.returncode == 1, run.stderr
    _one(run.stderr, "the disk is full; free some space")
    after = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name or p.name.endswith(".lock")]
