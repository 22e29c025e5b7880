"""Class 7, messages that keep the file/row/fix rule: a too long assessment names the goal and
field, a long row keeps its row number, another encoding is named, a huge line is named by its
line and the limit (not a parser's internals)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ks_analysis.errors import DataFileError
from ks_analysis.goals.assessments import load_assessments


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("text", "    text: " + "Bra samverkan. " * 350_000 + "\n"),
        ("text", "    text: " + "x" * 20_001 + "\n"),
        ("activities[2]", "    text: Bra.\n    activities: [a, " + "b" * 2_001 + "]\n"),
    ],
)
def test_a_too_long_assessment_names_goal_and_field(tmp_path: Path, field: str, body: str) -> None:
    """A 5 MB text is refused naming the file, the goal and the field, not as an HTML size."""
    (tmp_path / "2019-T1.yaml").write_text(
        "period: 2019-T1\ngoals:\n  - goal: 4\n    direction: positiv\n" + body, encoding="utf-8"
    )
    with pytest.raises(DataFileError) as err:
        load_assessments(tmp_path, "2019-T1", [4, 5, 7, 8])
    msg = str(err.value)
    assert f"2019-T1.yaml: goal 4, field {field!r}:" in msg and "characters are more than" in msg
    assert "rapport.html" not in msg


LONG_NAME = "Kommunalförbundet " + "Södra Vätterbygdens " * 8


@pytest.mark.parametrize(
    ("reader", "name", "text", "line"),
    [
        (
            "kolada_long_names",
            "nyckeltal.csv",
            "Variabelkod,Kommun,År,Värde\nN01951,Vaggeryd,2018,13000\n"
            f"N01951,{LONG_NAME},2018,1,5\n",
            3,
        ),
        (
            "kolada_bulk_csv",
            "ddf--datapoints--n03926--by--geo--year.csv",
            "geo,year,n03926\n0665,2018,2.5\n\n0665,2019," + "9" * 150 + ",1\n",
            4,
        ),
    ],
)
def test_a_long_row_keeps_its_row_number(
    raw_with: Callable[..., Path],
    cli: Callable[..., Any],
    reader: str,
    name: str,
    text: str,
    line: int,
) -> None:
    """A bad row over 100 characters (the parser shortens it in its message) is still named by line."""
    raw = raw_with({name: text}, reader=reader)
    run = cli("clean", "--raw", str(raw), "--out", str(raw.parent / "out"))
    if run.code == 0:  # rejected as a row: rejected.csv names the line
        import pandas as pd

        rejected = pd.read_csv(raw.parent / "out" / "rejected.csv")
        assert rejected["source_row"].tolist() == [line]
    else:
        assert run.code == 2 and f"row {line}:" in run.err


@pytest.mark.parametrize(
    ("reader", "name"),
    [
        ("long_csv", "l.csv"),
        ("local_register", "r.csv"),
        ("kolada_bulk_csv", "ddf--datapoints--n03926--by--geo--year.csv"),
        ("scb_year_by_month_csv", "KPI.csv"),
        ("tillvaxtanalys_quarterly", "tva.csv"),
    ],
)
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_named(
    raw_with: Callable[..., Path], cli: Callable[..., Any], reader: str, name: str, encoding: str
) -> None:
    """A UTF-16 file (Excel's 'Unicode text'), with or without BOM, is refused naming the
    encoding and the save option, in every CSV reader."""
    text = "municipality,indicator,period,value\n0665,N03926,2018,2.5\n"
    raw = raw_with({name: text.encode(encoding)}, reader=reader)
    run = cli("clean", "--raw", str(raw), "--out", str(raw.parent / "out"))
    assert run.code == 2
    assert "is UTF-16 text" in run.err and "CSV UTF-8" in run.err and run.err.count("\n") == 1


@pytest.mark.parametrize(
    ("reader", "name", "head"),
    [
        (
            "kolada_bulk_csv",
            "ddf--datapoints--n03926--by--geo--year.csv",
            "geo,year,n03926\n0665,2018,",
        ),
        ("long_csv", "l.csv", "municipality,indicator,period,value\n0665,N03926,2018,"),
    ],
)
def test_a_huge_line_is_named_by_line_and_limit(
    raw_with: Callable[..., Path], cli: Callable[..., Any], reader: str, name: str, head: str
) -> None:
    """A line of 3 MB (a lost line break) is one line naming the file, its line and the limit."""
    raw = raw_with({name: head + "1" * 3_000_000 + "\n0665,2019,2\n"}, reader=reader)
    run = cli("clean", "--raw", str(raw), "--out", str(raw.parent / "out"))
    assert run.code == 2
    assert f"{name}, row 2: line is 3 000 0" in run.err and "over the limit of 1 048 576" in run.err
    assert "straddling" not in run.err


def test_mixed_encodings_are_named(raw_with: Callable[..., Path], cli: Callable[..., Any]) -> None:
    """UTF-8 text with one cp1252 byte later is not silently read as cp1252 (that would garble the rest)."""
    data = (
        "kommun,indicator,period,value\nVärnamo,N03926,2018,2.5\n".encode()
        + "Höör,N03926,2018,2\n".encode("cp1252")
    )
    raw = raw_with({"l.csv": data})
    run = cli("clean", "--raw", str(raw), "--out", str(raw.parent / "out"))
    assert run.code == 2 and "l.csv, row 3: mixes encodings" in run.err
