"""Review fixes in ingest and clean: manifest checks, periods, non-finite values, row numbers, reasons."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ks_analysis.clean import run_clean
from ks_analysis.errors import DataFileError
from ks_analysis.ingest.manifest import load_sources

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


def _manifest(tmp_path: Path, extra: str, lag: str = "{days: 30}", files: str = "a.csv") -> Path:
    f = tmp_path / "sources.yaml"
    f.write_text(
        f"sources:\n  - name: mine\n    files: {files}\n    reader: long_csv\n    publication_lag: {lag}\n{extra}",
        encoding="utf-8",
    )
    return f


@pytest.mark.parametrize(
    ("lag", "extra", "message"),
    [
        (
            "{days: fifty}",
            "",
            r"entry 1 \(mine\), field 'publication_lag.days': 'fifty' is not a whole number of days; write e.g.",
        ),
        (
            "{date: 2024-13-01}",
            "",
            r"entry 1 \(mine\), field 'publication_lag.date': '2024-13-01' is not a date; write YYYY-MM-DD",
        ),
        (
            "{days: 30, per_indicator: {N03926: soon}}",
            "",
            r"entry 1 \(mine\), field 'publication_lag.per_indicator.N03926': 'soon' is not a whole number",
        ),
        (
            "{days: 30}",
            "    precedence: high\n",
            r"entry 1 \(mine\), field 'precedence': 'high' is not a whole number",
        ),
    ],
)
def test_bad_manifest_fields_are_data_file_errors(
    tmp_path: Path, lag: str, extra: str, message: str
) -> None:
    f = _manifest(tmp_path, extra, lag)
    with pytest.raises(DataFileError, match=r"^" + str(f).replace(".", r"\.") + ": " + message):
        load_sources(f)


def test_glob_matching_no_file_is_an_error(tmp_path: Path) -> None:
    shutil.copy(BAD / "text_in_number.csv", tmp_path / "a.csv")
    _manifest(
        tmp_path,
        "  - name: later\n    files: 'kolada/*.csv'\n    reader: long_csv\n    publication_lag: {days: 30}\n",
    )
    with pytest.raises(
        DataFileError,
        match=r"sources\.yaml: source 'later': file pattern 'kolada/\*\.csv' matches no file under .*; correct the pattern",
    ):
        run_clean(tmp_path)


def _raw(tmp_path: Path, name: str, text: str, reader: str = "long_csv") -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / name).write_text(text, encoding="utf-8")
    (raw / "sources.yaml").write_text(
        f"sources:\n  - name: t\n    files: {name}\n    reader: {reader}\n    publication_lag: {{days: 30}}\n",
        encoding="utf-8",
    )
    return raw


def test_non_finite_values_are_rejected_in_long_csv(tmp_path: Path) -> None:
    text = "municipality,indicator,period,value,unit\n0665,N03926,2018,2.5,%\n0665,N03926,2019,inf,%\n0665,N03926,2020,Infinity,%\n0665,N03926,2021,1e400,%\n0665,N03926,2022,-inf,%\n"
    result = run_clean(_raw(tmp_path, "a.csv", text))
    assert result.tidy["period"].tolist() == ["2018"]
    rej = result.rejected
    assert rej["source_row"].tolist() == [3, 4, 5, 6]
    assert rej["value"].tolist() == ["inf", "Infinity", "1e400", "-inf"]
    assert set(rej["reason"]) == {
        "not a finite number (infinite or too large); write the value as a plain number"
    }


def test_non_finite_values_are_rejected_in_kolada_bulk_csv(tmp_path: Path) -> None:
    """pyarrow parses inf into a float column; clean still rejects it."""
    text = "geo,year,n03926\r\n0665,2018,2.5\r\n0665,2019,inf\r\n0665,2020,1e400\r\n"
    result = run_clean(
        _raw(tmp_path, "ddf--datapoints--n03926--by--geo--year.csv", text, reader="kolada_bulk_csv")
    )
    assert result.tidy["period"].tolist() == ["2018"]
    assert result.rejected["source_row"].tolist() == [3, 4]
    assert set(result.rejected["reason"]) == {
        "not a finite number (infinite or too large); write the value as a plain number"
    }


def test_manifest_counts_rejections_by_readable_reason(tmp_path: Path) -> None:
    """Fixed reasons keep their text ('.' stays '.'); reasons naming values count under one key."""
    text = (
        "kommun,indicator,period,value,unit\n"
        "Vaggeryd,N03926,2018,2.5,%\n"
        'Vaggeryd,N03926,2019,"2,1 procent",%\n'
        "Vagerydd,N03926,2020,2.0,%\n"
        "Vagerydx,N03926,2021,2.0,%\n"
        "Samtliga,N03926,2021,2.0,%\n"
    )
    by_reason = run_clean(_raw(tmp_path, "a.csv", text)).manifest()["inputs"][0][
        "rejected_by_reason"
    ]
    assert by_reason == {
        "not a number; write numbers with '.' as decimal point and no text": 1,
        "unknown kommun or län name '…'": 2,
        "aggregate row '…' dropped on purpose (not a kommun)": 1,
    }


def test_yyyymm_like_period_is_rejected_outside_tillvaxtanalys(tmp_path: Path) -> None:
    """'201203' in a long CSV is not silently read as 2012-Q3: clean rejects it naming the accepted forms."""
    text = "municipality,indicator,period,value,unit\n0665,N03926,2012,2.5,%\n0665,N03926,201203,2.1,%\n"
    result = run_clean(_raw(tmp_path, "a.csv", text))
    assert result.tidy["period"].tolist() == ["2012"]
    assert result.rejected.to_dict("records") == [
        {
            "source_file": "a.csv",
            "source_row": 3,
            "column": "period",
            "value": "201203",
            "reason": "not a valid period (use 2022, 2022-Q1..Q4 or 2022-01..12)",
        }
    ]


def test_long_csv_source_row_counts_blank_lines(tmp_path: Path) -> None:
    """After blank lines the rejected row names the line an editor shows (5), not the record count (3)."""
    text = "municipality,indicator,period,value,unit\n0665,N03926,2018,2.5,%\n\n\n0665,N03926,2019,abc,%\n"
    result = run_clean(_raw(tmp_path, "a.csv", text))
    assert result.tidy["source_row"].tolist() == [2]
    assert result.rejected[["source_row", "value"]].to_dict("records") == [
        {"source_row": 5, "value": "abc"}
    ]


def test_kolada_bulk_csv_source_row_counts_blank_lines(tmp_path: Path) -> None:
    text = "geo,year,n03926\r\n0665,2018,2.5\r\n\r\n0665,2019,abc\r\n0665,2020,3.5\r\n"
    result = run_clean(
        _raw(tmp_path, "ddf--datapoints--n03926--by--geo--year.csv", text, reader="kolada_bulk_csv")
    )
    assert result.tidy["source_row"].tolist() == [2, 5]
    assert result.rejected[["source_row", "value"]].to_dict("records") == [
        {"source_row": 4, "value": "abc"}
    ]


def test_kolada_long_names_source_row_counts_blank_lines(tmp_path: Path) -> None:
    text = "Variabelkod,Kommun,År,Värde\nN03926,Vaggeryd,2018,2.5\n\nN03926,Vaggeryd,2019,abc\n"
    result = run_clean(_raw(tmp_path, "nyckeltal.csv", text, reader="kolada_long_names"))
    assert result.tidy["source_row"].tolist() == [2]
    assert result.rejected[["source_row", "value"]].to_dict("records") == [
        {"source_row": 4, "value": "abc"}
    ]


def test_kolada_bulk_csv_parse_error_names_the_line(tmp_path: Path) -> None:
    """A line with a field too many stops the run naming that line (after a blank line: line 4)."""
    text = "geo,year,n03926\n0665,2018,2.5\n\n0665,2019,1,5\n"
    raw = _raw(
        tmp_path, "ddf--datapoints--n03926--by--geo--year.csv", text, reader="kolada_bulk_csv"
    )
    with pytest.raises(
        DataFileError,
        match=r"^ddf--datapoints--n03926--by--geo--year\.csv, row 4: not a readable Kolada bulk CSV \(CSV parse error: Expected 3 columns, got 4: 0665,2019,1,5\); make the line have as many fields as the header",
    ):
        run_clean(raw)
