"""`clean --format parquet|csv|xlsx`: the tidy table read back in each format equals the parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from ks_analysis.clean import read_tidy, run_clean, write_clean
from ks_analysis.cli import main
from ks_analysis.paths import DEMO_DIR


@pytest.fixture(scope="module")
def demo_clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict[str, Path]]:
    """The demo data cleaned once, written in all three formats (CSV for Swedish Excel)."""
    result = run_clean(DEMO_DIR)
    out = tmp_path_factory.mktemp("clean") / "out"
    paths = write_clean(result, out, formats=("parquet", "csv", "xlsx"), excel_sv=True)
    return read_tidy(paths["indicators_parquet"]), paths


def test_swedish_excel_csv_reads_back_equal_to_the_parquet(
    demo_clean: tuple[pd.DataFrame, dict[str, Path]],
) -> None:
    """The --excel-sv CSV starts with a BOM, uses ';' and a decimal comma, and read back with
    those settings gives the parquet's rows, codes with their leading zeros, values and dates."""
    tidy, paths = demo_clean
    raw = paths["indicators_csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].split(";") == list(tidy.columns)
    at = list(tidy.columns).index("value")
    values = [line.split(";")[at] for line in lines[1:]]
    assert any("," in v for v in values) and not any("." in v for v in values)
    back = pd.read_csv(
        paths["indicators_csv"],
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        dtype={"municipality": str, "period": str, "unit": str},
        keep_default_na=False,
        na_values={"value": [""]},
    )
    assert len(back) == len(tidy)
    assert back["municipality"].tolist() == tidy["municipality"].astype(str).tolist()
    assert back["period"].tolist() == tidy["period"].astype(str).tolist()
    assert (back["value"].to_numpy() == tidy["value"].to_numpy()).all()
    assert back["source_row"].tolist() == tidy["source_row"].tolist()
    for col in ("period_end", "published"):
        assert back[col].tolist() == pd.to_datetime(tidy[col]).dt.strftime("%Y-%m-%d").tolist()


def test_xlsx_holds_numbers_as_numbers_and_reads_back_equal(
    demo_clean: tuple[pd.DataFrame, dict[str, Path]],
) -> None:
    """indicators.xlsx opens with openpyxl; values and source rows are numbers, dates are dates,
    codes are text with their leading zeros, and every row equals the parquet's."""
    tidy, paths = demo_clean
    ws = load_workbook(paths["indicators_xlsx"], read_only=True)["indicators"]
    rows = list(ws.iter_rows(values_only=True))
    cols = list(rows[0])
    assert cols == list(tidy.columns) and len(rows) - 1 == len(tidy)
    at = {c: i for i, c in enumerate(cols)}
    for got, (_, want) in zip(rows[1:], tidy.iterrows(), strict=True):
        assert isinstance(got[at["value"]], float | int) and got[at["value"]] == want["value"]
        assert isinstance(got[at["source_row"]], int)
        assert got[at["municipality"]] == want["municipality"]
        assert got[at["period"]] == want["period"]
        published = got[at["published"]]
        assert isinstance(published, dt.datetime)
        assert published.date() == pd.Timestamp(want["published"]).date()


def test_cli_writes_the_asked_format_only_and_refuses_excel_sv_without_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`clean --excel-sv` writes indicators.csv (and no stale parquet of an earlier run), prints
    its path; `--format xlsx --excel-sv` is refused with exit 2 and what to do."""
    out = tmp_path / "out"
    assert main(["clean", "--out", str(out)]) == 0
    assert (out / "indicators.parquet").exists()
    capsys.readouterr()
    (out / ".gitkeep").write_text("", encoding="utf-8")
    assert main(["clean", "--excel-sv", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out.resolve() / "indicators.csv")
    assert sorted(p.name for p in out.iterdir()) == [
        ".gitkeep",
        "indicators.csv",
        "manifest.json",
        "rejected.csv",
    ]
    assert main(["clean", "--format", "xlsx", "--excel-sv", "--out", str(out)]) == 2
    assert "add --format csv" in capsys.readouterr().err
    assert (out / "indicators.csv").exists()


def test_a_text_that_excel_would_run_as_a_formula_stays_text(tmp_path: Path) -> None:
    """CSV/formula injection (found by attacking the CLI): a unit '=HYPERLINK(...)' in a raw file
    was written as a live formula into indicators.xlsx and unescaped into the Excel CSV."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "l.csv").write_text(
        "municipality,indicator,gender,period,value,unit\n"
        '0665,LOKAL_X,T,2019-01,10,"=HYPERLINK(""http://x"")"\n'
        "0665,LOKAL_X,T,2019-02,-4,@SUM(A1)\n",
        encoding="utf-8",
    )
    (raw / "sources.yaml").write_text(
        "sources:\n  - name: s\n    files: l.csv\n    reader: long_csv\n    options: {}\n"
        "    publication_lag: {days: 30}\n",
        encoding="utf-8",
    )
    result = run_clean(raw)
    paths = write_clean(result, tmp_path / "out", formats=("csv", "xlsx"), excel_sv=True)
    import zipfile

    with zipfile.ZipFile(paths["indicators_xlsx"]) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet
    ws = load_workbook(paths["indicators_xlsx"], read_only=True)["indicators"]
    units = [r[list(result.tidy.columns).index("unit")] for r in ws.iter_rows(values_only=True)]
    assert '=HYPERLINK("http://x")' in units
    text = paths["indicators_csv"].read_text(encoding="utf-8-sig")
    assert ";'=HYPERLINK" in text.replace('"', "") and ";'@SUM(A1)" in text
    assert ";-4,0;" in text  # a negative number is a number, not a formula
