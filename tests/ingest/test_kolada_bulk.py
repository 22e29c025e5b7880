"""The Kolada bulk CSV reader's many-files form (batch) against reading file by file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ks_analysis.ingest.frame import concat_raw
from ks_analysis.ingest.kolada_bulk import read_kolada_bulk_csv
from ks_analysis.ingest.registry import get_batch_reader


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
