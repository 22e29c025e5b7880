"""Tests of ingest/kolada_bulk.py: non-finite values, line numbers, parse errors, and the batch form against file by file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ks_analysis import run_clean
from ks_analysis.ingest.frame import concat_raw
from ks_analysis.ingest.kolada_bulk import read_kolada_bulk_csv
from ks_analysis.ingest.registry import get_batch_reader


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


def test_kolada_bulk_csv_line_with_a_field_too_many_is_rejected_naming_the_line(
    one_source_raw: Callable[..., Path],
) -> None:
    """A line with a field too many (an unquoted decimal comma) is rejected with its line (after a
    blank line: line 4) and the decimal-comma hint; the other rows are kept and the counts add up."""
    text = "geo,year,n03926\n0665,2018,2.5\n\n0665,2019,1,5\n0665,2020,3.5\n"
    result = run_clean(
        one_source_raw("ddf--datapoints--n03926--by--geo--year.csv", text, reader="kolada_bulk_csv")
    )
    assert result.tidy[["period", "value", "source_row"]].to_dict("records") == [
        {"period": "2018", "value": 2.5, "source_row": 2},
        {"period": "2020", "value": 3.5, "source_row": 5},
    ]
    [rej] = result.rejected.to_dict("records")
    assert (rej["source_row"], rej["column"], rej["value"]) == (4, "value", "0665,2019,1,5")
    assert rej["reason"].startswith(
        "the row has more fields than the header (4 > 3); a decimal comma"
    )
    assert result.manifest()["totals"]["rows_read"] == 3


def test_batch_read_of_bulk_files_equals_reading_each(tmp_path: Path) -> None:
    """Many Kolada bulk CSVs of one entry read as one batch give the rows of reading each file."""
    files = {
        "ddf--datapoints--n03926--by--geo--year.csv": b"geo,year,n03926\r\n665,2022,2.1\r\n0604, 2021,\r\n",
        "ddf--datapoints--n03926--by--geo--gender--year.csv": b"geo,year,gender,n03926\r\n0665,2022,k,2.4\r\n0665,2022,M,x\r\n",
        "ddf--datapoints--n01951--by--geo--year.csv": b"geo,year,n01951\r\n0665,2020,12000\r\n",
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    read_part, combine = get_batch_reader("kolada_bulk_csv")  # type: ignore[misc]
    batch = combine([read_part(p, rel=p.name, unit="%") for p in paths])
    each = concat_raw([read_kolada_bulk_csv(p, rel=p.name, unit="%") for p in paths])
    cols = ["municipality", "indicator", "gender", "period", "unit", "source_file", "source_row"]
    assert batch[cols].astype(object).values.tolist() == each[cols].astype(object).values.tolist()

    def values(frame: pd.DataFrame) -> list[object]:
        return [None if pd.isna(v) else v for v in frame["value"].astype(object)]

    assert (
        values(batch) == values(each) == [2.1, None, "2.4", "x", 12000.0]
    )  # a text file keeps its cells as written
    assert batch["municipality"].astype(object).tolist() == ["0665", "0604", "0665", "0665", "0665"]
    assert batch["gender"].astype(object).tolist() == ["T", "T", "K", "M", "T"]
