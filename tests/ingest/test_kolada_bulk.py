"""Tests of ingest/kolada_bulk.py: Kolada bulk CSVs: non-finite values, line numbers and parse errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ks_analysis import run_clean
from ks_analysis.errors import DataFileError


def test_non_finite_values_are_rejected_in_kolada_bulk_csv(
    one_source_raw: Callable[..., Path],
) -> None:
    """pyarrow parses inf into a float column; clean still rejects it."""
    text = "geo,year,n03926\r\n0665,2018,2.5\r\n0665,2019,inf\r\n0665,2020,1e400\r\n"
    result = run_clean(
        one_source_raw("ddf--datapoints--n03926--by--geo--year.csv", text, reader="kolada_bulk_csv")
    )
    assert result.tidy["period"].tolist() == ["2018"]
    assert result.rejected["source_row"].tolist() == [3, 4]
    assert set(result.rejected["reason"]) == {
        "not a finite number (infinite or too large); write the value as a plain number"
    }


def test_kolada_bulk_csv_source_row_counts_blank_lines(one_source_raw: Callable[..., Path]) -> None:
    """In a Kolada bulk CSV with a blank line, kept and rejected rows name the line an editor shows."""
    text = "geo,year,n03926\r\n0665,2018,2.5\r\n\r\n0665,2019,abc\r\n0665,2020,3.5\r\n"
    result = run_clean(
        one_source_raw("ddf--datapoints--n03926--by--geo--year.csv", text, reader="kolada_bulk_csv")
    )
    assert result.tidy["source_row"].tolist() == [2, 5]
    assert result.rejected[["source_row", "value"]].to_dict("records") == [
        {"source_row": 4, "value": "abc"}
    ]


def test_kolada_bulk_csv_parse_error_names_the_line(one_source_raw: Callable[..., Path]) -> None:
    """A line with a field too many stops the run naming that line (after a blank line: line 4)."""
    text = "geo,year,n03926\n0665,2018,2.5\n\n0665,2019,1,5\n"
    raw = one_source_raw(
        "ddf--datapoints--n03926--by--geo--year.csv", text, reader="kolada_bulk_csv"
    )
    with pytest.raises(
        DataFileError,
        match=r"^ddf--datapoints--n03926--by--geo--year\.csv, row 4: not a readable Kolada bulk CSV \(CSV parse error: Expected 3 columns, got 4: 0665,2019,1,5\); make the line have as many fields as the header",
    ):
        run_clean(raw)
