"""The bad-input corpus (tests/data/bad): each broken file gets one exact error or rejection reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from ks_analysis.clean import run_clean
from ks_analysis.errors import DataFileError

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


def _clean(
    tmp_path: Path, name: str, reader: str = "long_csv", options: str = "{}"
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    shutil.copy(BAD / name, raw / name)
    (raw / "sources.yaml").write_text(
        f"sources:\n  - name: bad\n    files: {name}\n    reader: {reader}\n    options: {options}\n    publication_lag: {{days: 30}}\n",
        encoding="utf-8",
    )
    result = run_clean(raw)
    return result.tidy, result.rejected, result.manifest()


def test_empty_file_is_refused(tmp_path: Path) -> None:
    """A 0-byte file stops the run and says what to do."""
    with pytest.raises(
        DataFileError,
        match=r"^empty\.csv: is empty; export the data again, or remove the file from the sources manifest$",
    ):
        _clean(tmp_path, "empty.csv")


def test_header_only_is_refused(tmp_path: Path) -> None:
    """A header without rows stops the run, naming row 1."""
    with pytest.raises(
        DataFileError, match=r"^header_only\.csv, row 1: has a header but no data rows"
    ):
        _clean(tmp_path, "header_only.csv")


def test_latin1_file_is_read_as_cp1252_with_the_rows_of_utf8(tmp_path: Path) -> None:
    """A latin-1/cp1252 file (Swedish Excel's plain CSV) is sniffed and gives the rows of its UTF-8 twin."""
    tidy, rejected, manifest = _clean(tmp_path, "wrong_encoding.csv")
    assert rejected.empty
    assert tidy[["municipality", "period", "value", "source_row"]].to_dict("records") == [
        {"municipality": "0683", "period": "2022", "value": 2.1, "source_row": 2}
    ]
    assert manifest["totals"]["rows_read"] == 1


def test_binary_junk_is_refused(tmp_path: Path) -> None:
    """Binary bytes are not taken for text."""
    with pytest.raises(DataFileError, match=r"^binary_junk\.csv: is a binary file, not CSV text"):
        _clean(tmp_path, "binary_junk.csv")


def test_truncated_xlsx_is_refused(tmp_path: Path) -> None:
    """A cut-off workbook stops the run with the file named and a fix."""
    with pytest.raises(
        DataFileError,
        match=r"^truncated\.xlsx: is not a readable spreadsheet .*; open it in Excel and save it again",
    ):
        _clean(tmp_path, "truncated.xlsx", reader="tillvaxtanalys_quarterly")


@pytest.mark.parametrize(
    ("name", "row", "column", "value", "reason"),
    [
        (
            "text_in_number.csv",
            3,
            "value",
            "2,1 procent",
            "not a number; write numbers with '.' as decimal point and no text",
        ),
        ("share_above_100.csv", 3, "value", "123.4", "a share above 100 %"),
        ("negative_count.csv", 3, "value", "-298", "a negative count"),
        (
            "unknown_kommun.csv",
            3,
            "municipality",
            "Vagerydd",
            "unknown kommun or län name 'Vagerydd'; nearest matches: Vaggeryd (0665), Danderyd (0162)",
        ),
        (
            "period_2019_13.csv",
            3,
            "period",
            "2019-13",
            "not a valid period (use 2022, 2022-Q1..Q4 or 2022-01..12)",
        ),
    ],
)
def test_bad_row_is_rejected_with_reason(
    tmp_path: Path, name: str, row: int, column: str, value: str, reason: str
) -> None:
    """One bad row is rejected with its row, column, value and reason; the good row is kept."""
    tidy, rejected, manifest = _clean(tmp_path, name)
    assert len(tidy) == 1
    assert rejected.to_dict("records") == [
        {"source_file": name, "source_row": row, "column": column, "value": value, "reason": reason}
    ]
    assert manifest["totals"] == {
        "rows_read": 2,
        "rows_kept": 1,
        "rows_rejected": 1,
        "rows_missing": 0,
        "rows_duplicate": 0,
    }


def test_conflicting_duplicates_are_rejected_naming_both_rows(tmp_path: Path) -> None:
    """Two different values for one key: both rows go to rejected.csv, each naming both rows."""
    tidy, rejected, _ = _clean(tmp_path, "conflicting_duplicates.csv")
    assert tidy["period"].tolist() == ["2021"]
    expected = "conflicting duplicate: conflicting_duplicates.csv row 2 = 2.14087; conflicting_duplicates.csv row 3 = 2.5; correct one of them or set source precedence in the manifest"
    assert rejected["source_row"].tolist() == [2, 3]
    assert set(rejected["reason"]) == {expected}


def test_identical_duplicates_collapse_and_markers_count_as_missing(tmp_path: Path) -> None:
    """Identical rows collapse to one (counted as duplicate); '..' is a missing value, not an error."""
    tidy, rejected, manifest = _clean(tmp_path, "identical_duplicates.csv")
    assert tidy[["period", "value", "source_row"]].to_dict("records") == [
        {"period": "2021", "value": 2.5, "source_row": 2}
    ]
    assert rejected.empty
    assert manifest["totals"] == {
        "rows_read": 3,
        "rows_kept": 1,
        "rows_rejected": 0,
        "rows_missing": 1,
        "rows_duplicate": 1,
    }
