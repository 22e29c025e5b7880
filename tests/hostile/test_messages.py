"""Class 4, tracebacks instead of messages: a wrong shape in any configuration file, a bad period,
an impossible date, an output folder that cannot be written or is busy; each is one line on
stderr with file, field path, value and what is allowed, exit 2 (bad input) or 1 (failed run)."""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ks_analysis.errors import DataFileError
from ks_analysis.goals.assessments import load_assessments
from ks_analysis.goals.catalogue import DEFAULT_CATALOGUE


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def _catalogue(tmp_path: Path, mutate: Callable[[dict], object]) -> Path:
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "goals.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A mutation setting the field at ``path`` ('goals.0.indicators.0.genders')."""

    def mutate(d: dict) -> None:
        keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
        node: Any = d
        for k in keys[:-1]:
            node = node[k]
        if value is _DELETE:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value

    return mutate


_DELETE = object()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_set("areas.0.title", _DELETE), "field 'areas[1].title' is missing"),
        (
            _set("status_thresholds.met", "hög"),
            "field 'status_thresholds.met': 'hög' is not a number",
        ),
        (_set("goals", 5), "field 'goals': 5 is not a list"),
        (_set("goals.0", 7), "field 'goals[1]': 7 is not a mapping"),
        (
            _set("goals.0.indicators.0.genders", 5),
            "field 'goals[1].indicators[1].genders': 5 is not a list",
        ),
        (_set("year", "tjugo"), "field 'year': 'tjugo' is not a whole number"),
        (_set("year", 20190), "field 'year': 20190 is not allowed"),
        (_set("peer_group", ["0604"]), "field 'peer_group': a list is not a mapping"),
        (_set("areas", {"a": "b"}), "field 'areas': a mapping is not a list"),
        (_set("goals.0.id", True), "field 'goals[1].id': True is not a whole number"),
        (_set("peer_group.members.0", "9999"), "'9999' is not a kommun, län or riket code"),
        (_set("peer_group.members.0", "0006"), "'0006' is a län or riket, not a kommun"),
        (_set("municipality", "0000"), "'0000' is a län or riket, not a kommun"),
        # found by attacking the CLI: a misspelt key was ignored, a NaN target turned verdicts
        (
            _set("goals.0.rolup", "all_met"),
            "field 'goals[1].rolup': 'all_met' is not a known field",
        ),
        (
            _set("goals.0.indicators.0.target.value", float("nan")),
            "field 'goals[1].indicators[1].target.value': nan is not a finite number",
        ),
        (
            _set("goals.0.indicators.0.target.value", "1e3"),
            "'1e3' is not a number to YAML (it reads 1e3 as text); write it out, e.g. 1000",
        ),
        (
            _set("goals.0.indicators.0.target.value", float("inf")),
            "field 'goals[1].indicators[1].target.value': inf is not a finite number",
        ),
    ],
)
def test_a_catalogue_of_the_wrong_shape_is_one_line(
    tmp_path: Path, cli: Callable[..., Any], mutate: Callable[[dict], None], expected: str
) -> None:
    """Every wrong shape of the goal catalogue is one line naming the file and the field path."""
    path = _catalogue(tmp_path, mutate)
    run = cli("goals", "--goals", str(path))
    assert run.code == 2
    line = _one_line(run.err)
    assert str(path) in line and expected in line


def test_an_impossible_date_in_the_catalogue_is_text_not_a_crash(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """A date-like value that is no date (2019-02-30) does not crash the YAML parser."""
    path = tmp_path / "goals.yaml"
    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8")
    path.write_text(
        text.replace("mandate_start_year: 2018", "mandate_start_year: 2019-02-30"), encoding="utf-8"
    )
    run = cli("goals", "--goals", str(path))
    assert run.code == 2
    assert "field 'mandate_start_year': '2019-02-30' is not a whole number" in _one_line(run.err)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("[a, b]", "field 'options': a list is not a mapping"),
        ("5", "field 'options': 5 is not a mapping"),
        ("    election_kpis: N05401\n", "field 'election_kpis': 'N05401' is not a list of KPI ids"),
        ("    revisions: maybe\n", "field 'revisions': 'maybe' is not true or false"),
        ("    precedence: 1.5\n", "field 'precedence': 1.5 is not a whole number"),
        ("    colour: red\n", "field 'colour': 'red' is not a known field"),
    ],
)
def test_sources_yaml_field_types_are_one_line(
    raw_with: Callable[..., Path],
    tmp_path: Path,
    cli: Callable[..., Any],
    entry: str,
    expected: str,
) -> None:
    """A manifest field of the wrong type names the manifest, the entry and the field."""
    files = {"l.csv": "municipality,indicator,period,value\n0665,N03926,2018,2.5\n"}
    # the entry's own options: a second 'options:' key is refused as written twice (below)
    as_options = not entry.startswith(" ")
    raw = raw_with(files, options=entry) if as_options else raw_with(files, extra=entry)
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert run.code == 2
    line = _one_line(run.err)
    assert "sources.yaml: entry 1 (s), " + expected in line


def test_a_key_written_twice_in_a_manifest_is_refused_with_both_lines(
    raw_with: Callable[..., Path], tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """YAML's last-one-wins would silently drop the first 'options:' of the entry."""
    files = {"l.csv": "municipality,indicator,period,value\n0665,N03926,2018,2.5\n"}
    raw = raw_with(files, extra="    options: {unit: antal}\n")
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert run.code == 2
    line = _one_line(run.err)
    assert "sources.yaml, row 7: is refused: key 'options' is written twice (lines 5 and 7)" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("files", "lag", "expected"),
    [
        ("5", "{days: 30}", "field 'files': 5 is not a path or a list of paths"),
        ("[l.csv, 3]", "{days: 30}", "field 'files[2]': 3 is not a path or a list of paths"),
        (
            "l.csv",
            "{days: -5}",
            "field 'publication_lag.days': -5 is not a whole number of days from 0 to 3650",
        ),
        (
            "l.csv",
            "{days: 100000000}",
            "field 'publication_lag.days': 100000000 is not a whole number of days",
        ),
        (
            "l.csv",
            "{days: 1.0e+8}",
            "field 'publication_lag.days': 100000000.0 is not a whole number of days",
        ),
        ("l.csv", "{date: 2019-02-30}", "field 'publication_lag.date': '2019-02-30' is not a date"),
        (
            "l.csv",
            "{days: 30, per_indicator: {N03926: 99999}}",
            "field 'publication_lag.per_indicator.N03926': 99999",
        ),
    ],
)
def test_sources_yaml_files_and_lags_are_checked(
    tmp_path: Path, cli: Callable[..., Any], files: str, lag: str, expected: str
) -> None:
    """Files of the wrong type and lags that are negative, huge (int64 wrap) or no date are one line."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "l.csv").write_text(
        "municipality,indicator,period,value\n0665,N03926,2018,2.5\n", encoding="utf-8"
    )
    (raw / "sources.yaml").write_text(
        f"sources:\n  - name: s\n    files: {files}\n    reader: long_csv\n    publication_lag: {lag}\n",
        encoding="utf-8",
    )
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert run.code == 2
    assert expected in _one_line(run.err)


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--period", "٢٠١٩-T1"],
        ["report", "--period", "۲۰۱۹-Y"],
        ["report", "--period", "0000-T1"],
        ["report", "--year", "٢٠١٩"],
        ["report", "--period", "2019-02-30"],
        ["clean", "--as-of", "٢٠١٩-05-01"],
        ["clean", "--as-of", "2019-02-30"],
    ],
)
def test_periods_and_dates_in_other_digits_or_impossible_are_refused(
    tmp_path: Path, cli: Callable[..., Any], argv: list[str]
) -> None:
    """Non-ASCII digits are never read as a year (no silent guess), nor impossible dates: exit 2."""
    run = cli(*argv, "--out", str(tmp_path / "out"))
    assert run.code == 2
    assert "Traceback" not in run.err and not (tmp_path / "out").exists()


GOOD = """period: 2019-T1
goals:
  - goal: 4
    direction: positiv
    text: Bra samverkan.
    activities: [Träffar]
    author: KLK
    date: 2019-05-06
"""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("2019-05-06", "2019-02-30"), "goal 4, field 'date': '2019-02-30' is not a date"),
        (("2019-05-06", "2019-13-01"), "goal 4, field 'date': '2019-13-01' is not a date"),
        (
            ("period: 2019-T1", "period: [2019]"),
            "field 'period' is [2019] but the file is for 2019-T1",
        ),
        (
            ("activities: [Träffar]", "activities: Träffar"),
            "goal 4, field 'activities': must be a list",
        ),
    ],
)
def test_self_assessment_dates_and_shapes_are_named(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    """An impossible date (2019-02-30) in a self-assessment names the goal and field, no traceback."""
    (tmp_path / "2019-T1.yaml").write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(DataFileError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        load_assessments(tmp_path, "2019-T1", [4, 5, 7, 8])


def test_out_that_is_a_file_or_under_a_file(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """--out naming a file, or a folder under a file, is one line naming the path, exit 2."""
    f = tmp_path / "file"
    f.write_text("keep", encoding="utf-8")
    for out in (f, f / "sub"):
        run = cli("clean", "--out", str(out))
        assert run.code == 2 and str(f) in _one_line(run.err)
    assert f.read_text(encoding="utf-8") == "keep"


def test_out_not_writable(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """A folder the process may not write (a read-only file system here) is one line, exit 2."""
    run = cli("clean", "--out", "/sys/ks-analysis-out")
    assert run.code == 2
    assert "/sys" in _one_line(run.err)


def test_disk_full_keeps_the_previous_outputs(
    tmp_path: Path, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while writing: one line with the path, exit 1, the previous outputs byte for byte, no litter."""
    out = tmp_path / "out"
    assert cli("clean", "--out", str(out)).code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    import pandas as pd

    def full(self: object, path: object, **_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    run = cli("clean", "--out", str(out))
    assert run.code == 1
    assert "the disk is full; free some space and run again" in _one_line(run.err)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_second_run_for_the_same_folder_is_refused(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """While another run holds an output folder's lock, a second run is refused with one line
    naming the folder and the other process (exit 1), and leaves nothing behind."""
    out = tmp_path / "out"
    fd = os.open(tmp_path / ".out.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"4242")
        run = cli("clean", "--out", str(out))
    finally:
        os.close(fd)
    assert run.code == 1
    assert "another run (process 4242) is writing these outputs now" in _one_line(run.err)
    assert not out.exists() and not list(tmp_path.glob(".out.tmp-*"))
    assert cli("clean", "--out", str(out)).code == 0  # the lock is free again


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        # found by attacking the CLI: each was exit 1, exit 0 or acted on the working folder
        (
            ("clean", "--sources", "{missing}"),
            "sources manifest not found; check the --sources path",
        ),
        (
            ("report", "--period", "2019-T1", "--assessments", "{missing}"),
            "assessments folder does not exist",
        ),
        (("report", "--period", "2019-T1", "--raw", ""), "argument --raw: is empty"),
        (("init", ""), "argument dir: is empty"),
        (
            ("assessments", "new", "--period", "2019-T2", "--assessments", ""),
            "argument --assessments: is empty",
        ),
        (("report", "--period", "2019-T1", "--as-of", "9999-12-31"), "is after 2200-12-31"),
        (("explore", ""), "the indicator id is empty"),
    ],
)
def test_a_missing_or_empty_path_and_an_impossible_vintage_are_bad_input(
    tmp_path: Path, cli: Callable[..., Any], argv: tuple[str, ...], expected: str
) -> None:
    missing = str(tmp_path / "missing")
    args = [a.replace("{missing}", missing) for a in argv]
    run = (
        cli(*args, "--out", str(tmp_path / "out")) if args[0] in ("clean", "report") else cli(*args)
    )
    assert run.code == 2, run.err
    assert expected in run.err and "Traceback" not in run.err
    assert not (tmp_path / "out").exists()


def test_a_csv_header_that_names_a_column_twice_is_refused(
    raw_with: Callable[..., Path], tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """'…,value,value' took the last column without a word (found by attacking the CLI)."""
    raw = raw_with({"l.csv": "municipality,indicator,period,value,Value\n0665,N03926,2018,2.5,3\n"})
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert run.code == 2
    line = _one_line(run.err)
    assert "l.csv, row 1: the header names column 'value' twice (columns 4 and 5)" in line


@pytest.mark.parametrize(
    ("reader", "options", "data", "expected"),
    [
        # found by attacking the CLI: the option was ignored, or every row rejected one by one
        (
            "long_csv",
            "{bogus: 1}",
            "municipality,indicator,period,value\n0665,N03926,2018,2.5\n",
            "source 's', field 'options': 'bogus' is not an option of reader 'long_csv'",
        ),
        (
            "bankruptcies_monthly",
            "{shet: Blad1}",
            "x\n1\n",
            "'shet' is not an option of reader 'bankruptcies_monthly'",
        ),
        (
            "local_register",
            '{municipality: "9999"}',
            "indicator,ort,period,value\nLOKAL_X,Vaggeryd,2019-01,10\n",
            "the sources manifest's option municipality '9999' is not a kommun, län or riket code",
        ),
    ],
)
def test_a_manifest_option_the_reader_cannot_use_is_refused(
    raw_with: Callable[..., Path],
    tmp_path: Path,
    cli: Callable[..., Any],
    reader: str,
    options: str,
    data: str,
    expected: str,
) -> None:
    raw = raw_with({"l.csv": data}, reader=reader, options=options)
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert run.code == 2
    assert expected in _one_line(run.err)
    assert not (tmp_path / "out").exists()


def test_a_lag_rule_with_both_days_and_a_date_is_refused(
    raw_with: Callable[..., Path], tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """Which one dated the rows was not said anywhere (found by attacking the CLI)."""
    raw = raw_with({"l.csv": "municipality,indicator,period,value\n0665,N03926,2018,2.5\n"})
    text = (raw / "sources.yaml").read_text(encoding="utf-8")
    (raw / "sources.yaml").write_text(
        text.replace("{days: 30}", "{days: 30, date: 2019-01-01}"), encoding="utf-8"
    )
    run = cli("clean", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert run.code == 2
    assert "give either days (a lag after each period) or date" in _one_line(run.err)
