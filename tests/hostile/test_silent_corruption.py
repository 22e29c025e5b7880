"""Class 2, silent corruption: readers never guess. A split decimal, an empty or short code, a
boolean, a file matched twice, an absurd number: each is rejected or counted, never kept wrong;
and files re-saved by Swedish Excel give the same tidy rows as the original."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from ks_analysis.clean import run_clean

LONG_HEADER = "municipality,indicator,gender,period,value,unit\n"
KEY = ["municipality", "indicator", "gender", "period", "value", "unit"]


def _rows(raw: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    result = run_clean(raw)
    return result.tidy, result.rejected, result.manifest()


@pytest.mark.parametrize(
    ("reader", "name", "text", "bad_line"),
    [
        (
            "long_csv",
            "l.csv",
            LONG_HEADER + "0665,N03926,T,2017,11,%\n0665,N03926,T,2018,12,5,%\n",
            3,
        ),
        (
            "local_register",
            "r.csv",
            "indicator,ort,period,value,comment\nLOKAL_A,Hok,2019-01,3,\nLOKAL_A,Hok,2019-02,12,5,\n",
            3,
        ),
        (
            "kolada_bulk_csv",
            "ddf--datapoints--n03926--by--geo--year.csv",
            "geo,year,n03926\n0665,2017,2.5\n0665,2018,12,5\n",
            3,
        ),
        (
            "table",
            "t.csv",
            "regionkod,år,andel\n0665,2017,2.5\n0665,2018,12,5\n",
            3,
        ),
    ],
)
def test_an_unquoted_decimal_comma_is_rejected_with_its_line(
    raw_with: Callable[..., Path], reader: str, name: str, text: str, bad_line: int
) -> None:
    """A row with a field too many (12,5 in a comma file) is rejected naming its line and the
    decimal-comma hint, in every CSV reader; its neighbour is kept and nothing reads as 12."""
    options = (
        "{region_code_col: regionkod, year_col: år, values: {andel: {indicator: TEST_X, unit: '%'}}}"
        if reader == "table"
        else "{}"
    )
    tidy, rejected, manifest = _rows(raw_with({name: text}, reader=reader, options=options))
    assert 12.0 not in tidy["value"].tolist()
    assert len(tidy) == 1
    assert rejected["source_row"].tolist() == [bad_line]
    assert rejected["reason"].iloc[0].startswith("the row has more fields than the header")
    assert "decimal comma" in rejected["reason"].iloc[0]
    t = manifest["totals"]
    assert (
        t["rows_read"]
        == t["rows_kept"] + t["rows_rejected"] + t["rows_missing"] + t["rows_duplicate"]
    )


def test_cells_past_the_tillvaxtanalys_header_are_counted(raw_with: Callable[..., Path]) -> None:
    """Two cells past the last header column: the row is rejected with a reason and each extra
    cell is a counted raw row, so the manifest's rows_read covers every cell."""
    text = "Kommunnummer,Kommun,200701,200702\n665,Vaggeryd,3,4\n604,Aneby,1,2,7,8\n"
    tidy, rejected, manifest = _rows(raw_with({"tva.csv": text}, reader="tillvaxtanalys_quarterly"))
    assert tidy[["municipality", "period", "value"]].to_dict("records") == [
        {"municipality": "0665", "period": "2007-Q1", "value": 3.0},
        {"municipality": "0665", "period": "2007-Q2", "value": 4.0},
    ]
    assert sorted(rejected["value"].tolist()) == ["1", "2", "7", "8"]
    assert manifest["totals"]["rows_read"] == 6


@pytest.mark.parametrize(
    ("reader", "name", "text"),
    [
        (
            "kolada_bulk_csv",
            "ddf--datapoints--n03926--by--geo--year.csv",
            "geo,year,n03926\n,2018,2.5\n",
        ),
        (
            "kolada_bulk_csv",
            "ddf--datapoints--n03926--by--geo--year.csv",
            "geo,year,n03926\n  ,2018,2.5\n",
        ),
        (
            "kolada_bulk_csv",
            "ddf--datapoints--n03926--by--geo--year.csv",
            "geo,year,n03926\n0,2018,2.5\n",
        ),
        ("long_csv", "l.csv", LONG_HEADER + "0,N03926,T,2018,2.5,%\n"),
        ("long_csv", "l.csv", LONG_HEADER + "00,N03926,T,2018,2.5,%\n"),
        ("long_csv", "l.csv", LONG_HEADER + "6,N03926,T,2018,2.5,%\n"),
        ("tillvaxtanalys_quarterly", "tva.csv", "Kommunnummer,Kommun,200701\n0,,3\n"),
    ],
)
def test_empty_and_short_codes_are_rejected_never_riket(
    raw_with: Callable[..., Path], reader: str, name: str, text: str
) -> None:
    """An empty, blank, '0', '00' or one-digit place code is rejected; no row becomes riket 0000."""
    tidy, rejected, _ = _rows(raw_with({name: text}, reader=reader))
    assert tidy.empty
    assert len(rejected) == 1 and rejected["column"].iloc[0] == "municipality"


def test_a_three_digit_code_gets_its_leading_zero_back(raw_with: Callable[..., Path]) -> None:
    """665 (a spreadsheet dropped the zero) is Vaggeryd 0665 in the bulk and the long reader alike."""
    for reader, name, text in [
        (
            "kolada_bulk_csv",
            "ddf--datapoints--n03926--by--geo--year.csv",
            "geo,year,n03926\n665,2018,2.5\n",
        ),
        ("long_csv", "l.csv", LONG_HEADER + "665,N03926,T,2018,2.5,%\n"),
    ]:
        tidy, _, _ = _rows(raw_with({name: text}, reader=reader))
        assert tidy["municipality"].tolist() == ["0665"], reader


def _snapshot_raw(raw_with: Callable[..., Path], value: str) -> Path:
    page = (
        '{"count": 1, "values": [{"kpi": "N03926", "municipality": "0665", "period": 2018, '
        '"values": [{"gender": "T", "count": 1, "status": "", "value": ' + value + "}]}]}"
    )
    return raw_with(
        {"kolada/2024-01-01T000000Z/data-N03926-0665-2018-p1.json": page},
        reader="kolada_api_json",
        pattern="kolada/*/data-*.json",
    )


@pytest.mark.parametrize("value", ["true", "false"])
def test_json_booleans_are_not_numbers(raw_with: Callable[..., Path], value: str) -> None:
    """JSON true/false in a Kolada snapshot is rejected, never kept as 1.0 or 0.0."""
    tidy, rejected, _ = _rows(_snapshot_raw(raw_with, value))
    assert tidy.empty
    assert rejected["reason"].tolist() == [
        "a true/false value, not a number; write the number (booleans are never read as 1 or 0)"
    ]


def test_excel_booleans_are_not_numbers(raw_with: Callable[..., Path], tmp_path: Path) -> None:
    """An Excel TRUE/FALSE cell is rejected; the number beside it is kept."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["regionkod", "år", "andel"])
    ws.append(["0665", 2017, True])
    ws.append(["0665", 2018, 2.5])
    ws.append(["0665", 2019, False])
    raw = raw_with(
        {"README.md": "x"},
        reader="table",
        pattern="t.xlsx",
        options="{region_code_col: regionkod, year_col: år, values: {andel: {indicator: TEST_X, unit: '%'}}}",
    )
    wb.save(raw / "t.xlsx")
    tidy, rejected, _ = _rows(raw)
    assert tidy[["period", "value"]].to_dict("records") == [{"period": "2018", "value": 2.5}]
    assert rejected["source_row"].tolist() == [2, 4]


def test_a_file_matched_by_two_globs_is_read_once(raw_with: Callable[..., Path]) -> None:
    """One entry whose globs reach a file twice reads it once: rows_read is the file's rows."""
    raw = raw_with(
        {"k/a.csv": LONG_HEADER + "0665,N03926,T,2018,2.5,%\n0665,N03926,T,2019,2.6,%\n"},
        pattern="k/*.csv",
    )
    text = (raw / "sources.yaml").read_text(encoding="utf-8")
    (raw / "sources.yaml").write_text(
        text.replace("files: 'k/*.csv'", "files: ['k/*.csv', 'k/a.csv', '**/a.csv']"),
        encoding="utf-8",
    )
    tidy, _, manifest = _rows(raw)
    assert len(tidy) == 2
    assert manifest["totals"]["rows_read"] == 2 and len(manifest["inputs"]) == 1


@pytest.mark.parametrize("value", ["1e308", "-1e300", "1e16", "inf", "-Infinity", "nan(1)"])
def test_absurd_numbers_are_rejected(raw_with: Callable[..., Path], value: str) -> None:
    """1e308 and its kind never pass clean (they broke the report's sums): rejected with a reason."""
    tidy, rejected, _ = _rows(
        raw_with({"l.csv": LONG_HEADER + f"0665,N01951,T,2018,{value},antal\n"})
    )
    assert tidy.empty and len(rejected) == 1


def _swedish_excel(text: str, *, bom: bool) -> bytes:
    """``text`` as Swedish Excel's "CSV (semikolonavgränsad)" writes it: ';', decimal comma,
    cp1252, CRLF, sometimes a BOM (then UTF-8)."""
    lines = []
    for line in text.strip("\n").split("\n"):
        cells = line.split(",")
        lines.append(
            ";".join(c.replace(".", ",") if c.replace(".", "").isdigit() else c for c in cells)
        )
    body = "\r\n".join(lines) + "\r\n"
    return (b"\xef\xbb\xbf" + body.encode("utf-8")) if bom else body.encode("cp1252")


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize(
    ("reader", "name", "text"),
    [
        (
            "long_csv",
            "l.csv",
            "kommun,indicator,gender,period,value,unit\nVärnamo,N03926,T,2018,2.5,%\nVaggeryd,N03926,K,2019,12.25,%\n",
        ),
        (
            "local_register",
            "r.csv",
            "indicator,ort,period,value,comment\nLOKAL_TOMTER,Skillingaryd,2019-01,3,\nLOKAL_TOMTER,Hok,2019-02,4.5,ökning\n",
        ),
        (
            "kolada_bulk_csv",
            "ddf--datapoints--n03926--by--geo--year.csv",
            "geo,year,n03926\n0665,2018,2.5\n0680,2019,13.75\n",
        ),
        (
            "arbetsformedlingen_monthly",
            "af.csv",
            "id,period,county,municipality,unemployedTotal\n1,2019-01,Jönköping,Vaggeryd,310\n2,2019-02,Jönköping,Värnamo,1005\n",
        ),
        ("scb_year_by_month_csv", "KPI.csv", "År,1,2,Year\n2018,320.5,321.25,322\n"),
    ],
)
def test_swedish_excel_csv_gives_the_rows_of_the_original(
    tmp_path: Path, raw_with: Callable[..., Path], reader: str, name: str, text: str, bom: bool
) -> None:
    """Every CSV reader sniffs ';', decimal comma, cp1252 or UTF-8 with BOM and CRLF, and gives the
    same tidy rows as the UTF-8, comma, LF original."""
    original, _, _ = _rows(raw_with({name: text}, reader=reader))
    saved_as = tmp_path / "excel"
    saved_as.mkdir()
    (saved_as / name).write_bytes(_swedish_excel(text, bom=bom))
    (saved_as / "sources.yaml").write_text(
        (tmp_path / "raw" / "sources.yaml").read_text("utf-8"), "utf-8"
    )
    resaved, rejected, _ = _rows(saved_as)
    assert rejected.empty
    assert not original.empty
    cols = [c for c in original.columns if c not in ("source_file", "published")]
    pd.testing.assert_frame_equal(resaved[cols], original[cols])


def test_manifest_counts_every_input_row(raw_with: Callable[..., Path], tmp_path: Path) -> None:
    """After all of the above in one file: rows_read = kept + rejected + missing + duplicate."""
    text = (
        LONG_HEADER
        + "0665,N03926,T,2017,2.5,%\n0665,N03926,T,2018,12,5,%\n,N03926,T,2019,1,%\n0665,N03926,T,2020,..,%\n0665,N03926,T,2017,2.5,%\n"
    )
    raw = raw_with({"l.csv": text})
    out = tmp_path / "out"
    from ks_analysis.cli import main

    assert main(["-q", "clean", "--raw", str(raw), "--out", str(out)]) == 0
    t = json.loads((out / "manifest.json").read_text())["totals"]
    assert t == {
        "rows_read": 5,
        "rows_kept": 1,
        "rows_rejected": 2,
        "rows_missing": 1,
        "rows_duplicate": 1,
    }
