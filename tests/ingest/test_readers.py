"""Readers, one test per format quirk, on small files written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import (
    normalise_period,
    region_code,
    split_region_label,
    unit_from_title,
)
from ks_analysis.ingest.kolada_bulk import read_kolada_bulk_csv
from ks_analysis.ingest.kolada_web import (
    read_kolada_kpi_metadata,
    read_kolada_long_names,
    read_kolada_web_export,
)
from ks_analysis.ingest.scb_csv import read_scb_pxweb_csv, read_scb_year_by_month_csv
from ks_analysis.ingest.tables import (
    read_bolagsverket_monthly,
    read_scb_bas_monthly,
    read_scb_housing_quarterly,
    read_socialstyrelsen_monthly,
    read_tillvaxtanalys_lan_quarterly,
)
from ks_analysis.schema import RAW_COLUMNS


def _xlsx(path: Path, rows: list[list[object]], sheet: str = "Sheet1") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _records(frame: pd.DataFrame, cols: list[str]) -> list[tuple[object, ...]]:
    return [
        tuple(None if pd.isna(v) else v for v in r)
        for r in frame[cols].astype(object).itertuples(index=False)
    ]


def test_kolada_bulk_csv_crlf_empty_fields_gender_file(tmp_path: Path) -> None:
    """CRLF, empty value fields (kept as missing), lower-case KPI header upper-cased, K/M from the gender file."""
    p = tmp_path / "ddf--datapoints--n03926--by--geo--gender--year.csv"
    p.write_bytes(b"geo,year,gender,n03926\r\n0665,2022,K,2.440342\r\n0665,2022,M,\r\n")
    frame = read_kolada_bulk_csv(p, rel=p.name, unit="%")
    assert list(frame.columns) == RAW_COLUMNS
    assert _records(
        frame, ["municipality", "indicator", "gender", "period", "value", "source_row"]
    ) == [
        ("0665", "N03926", "K", "2022", 2.440342, 2),
        ("0665", "N03926", "M", "2022", None, 3),
    ]


def test_kpi_metadata_units_and_gender(tmp_path: Path) -> None:
    """kpi_results.csv gives id, title, a unit derived from the title, the gender split and the publication date."""
    p = tmp_path / "kpi_results.csv"
    p.write_text(
        "concept,name,is_divided_by_gender,publication_date,prel_publication_date\r\n"
        'N03926,"Långtidsarbetslöshet 25-65 år, årsmedelvärde, andel (%) av bef.",1,2025-02-22,\r\n'
        'N07917,"Färdigställda bostäder, nybyggnad, antal/1000 inv",0,2025-05-15,\r\n',
        encoding="utf-8",
    )
    meta = read_kolada_kpi_metadata(p)
    assert meta[["id", "unit", "divided_by_gender"]].values.tolist() == [
        ["N03926", "%", True],
        ["N07917", "antal/1000 inv", False],
    ]
    assert meta["publication_date"].iloc[0] == pd.Timestamp("2025-02-22")


@pytest.mark.parametrize(
    ("title", "unit"),
    [
        ("Invånare  totalt, antal", "antal"),
        ("Kostnad ekonomiskt bistånd, kr/inv", "kr/inv"),
        ("Förändring i antal invånare sen föregående år, andel (%)", "% förändring"),
        ("U. Nöjd Inflytande-Index - Helheten", "index"),
    ],
)
def test_unit_from_title(title: str, unit: str) -> None:
    """Units come from the end of a Kolada title; changes get '% förändring'."""
    assert unit_from_title(title) == unit


def test_kolada_web_export_wide(tmp_path: Path) -> None:
    """Title row, blank header cells, 'Alla kommuner' aggregate, titles mapped to ids or derived local ids."""
    p = _xlsx(
        tmp_path / "alla invanare.xlsx",
        [
            ["Kolada nyckeltal", None, None, None],
            [None, None, "1998", "1999"],
            ["Invånare  totalt, antal", "Alla kommuner", 100, 101],
            ["Invånare  totalt, antal", "Vaggeryd", 12000, None],
            ["Invånare 65+, andel (%)", "Vaggeryd", 18.5, 18.7],
        ],
    )
    frame = read_kolada_web_export(p, rel=p.name, indicators={"Invånare totalt, antal": "N01951"})
    assert _records(
        frame, ["municipality_name", "indicator", "period", "value", "unit", "source_row"]
    ) == [
        ("Alla kommuner", "N01951", "1998", 100, "antal", 3),
        ("Alla kommuner", "N01951", "1999", 101, "antal", 3),
        ("Vaggeryd", "N01951", "1998", 12000, "antal", 4),
        ("Vaggeryd", "N01951", "1999", None, "antal", 4),
        ("Vaggeryd", "KOLADA_INVANARE_65_ANDEL", "1998", 18.5, "%", 5),
        ("Vaggeryd", "KOLADA_INVANARE_65_ANDEL", "1999", 18.7, "%", 5),
    ]


def test_kolada_web_export_long_year_as_text(tmp_path: Path) -> None:
    """The legacy long export: year stored as text, KPI id from the file stem."""
    p = _xlsx(
        tmp_path / "U00408.xlsx",
        [
            ["Nyckeltal", "Kommun/Landsting", "År", "Visat Värde"],
            ["U. Nöjd Inflytande-Index - Helheten", "Vaggeryd", "2006", 45],
        ],
    )
    frame = read_kolada_web_export(p, rel=p.name)
    assert _records(frame, ["municipality_name", "indicator", "period", "value", "source_row"]) == [
        ("Vaggeryd", "U00408", "2006", 45, 2)
    ]


def test_kolada_long_names(tmp_path: Path) -> None:
    """nyckeltal.csv: long, keyed by kommun name; units from a metadata file beside it."""
    (tmp_path / "Metadata_Kolada.csv").write_text(
        '"","Kortnamn","Beskrivning","Kod"\n"1","Invånare totalt, antal","x","N01951"\n"2","Invånare totalt, antal","x","N01951"\n',
        encoding="utf-8",
    )
    p = tmp_path / "nyckeltal.csv"
    p.write_text("Variabelkod,Kommun,År,Värde\nN01951,Vaggeryd,2012,13000.0\n", encoding="utf-8")
    frame = read_kolada_long_names(p, rel=p.name, metadata_file="Metadata_Kolada.csv")
    assert _records(
        frame, ["municipality_name", "indicator", "period", "value", "unit", "source_row"]
    ) == [("Vaggeryd", "N01951", "2012", "13000.0", "antal", 2)]


def test_scb_pxweb_csv_latin1_code_and_name(tmp_path: Path) -> None:
    """latin-1, '..' kept for clean to count, '06 Jönköping county' split into code and name."""
    p = tmp_path / "000002O5.csv"
    p.write_bytes(
        '"region","2007","2009"\n"00 Sweden",78352,..\n"06 Jönköping county",1200,1300\n'.encode(
            "latin-1"
        )
    )
    frame = read_scb_pxweb_csv(p, rel=p.name)
    assert _records(
        frame, ["municipality", "municipality_name", "indicator", "period", "value", "source_row"]
    ) == [
        ("0000", "Sweden", "SCB_000002O5", "2007", "78352", 2),
        ("0000", "Sweden", "SCB_000002O5", "2009", "..", 2),
        ("0006", "Jönköping county", "SCB_000002O5", "2007", "1200", 3),
        ("0006", "Jönköping county", "SCB_000002O5", "2009", "1300", 3),
    ]


def test_scb_pxweb_csv_gender_and_dimension(tmp_path: Path) -> None:
    """A national table with kön and another dimension: gender K/M, the dimension in the indicator id."""
    p = tmp_path / "AM0112C1.csv"
    p.write_bytes(
        '"Utbildningsnivå SUN 2000","kön","1991"\n"gymnasial utbildning","män",13900\n"gymnasial utbildning","kvinnor",..\n'.encode(
            "latin-1"
        )
    )
    frame = read_scb_pxweb_csv(p, rel=p.name, municipality="0000")
    assert _records(frame, ["municipality", "indicator", "gender", "value"]) == [
        ("0000", "SCB_AM0112C1__GYMNASIAL_UTBILDNING", "M", "13900"),
        ("0000", "SCB_AM0112C1__GYMNASIAL_UTBILDNING", "K", ".."),
    ]


def test_semicolon_csv_nbsp_thousands(tmp_path: Path) -> None:
    """KPI.csv: ';', CRLF, no-break-space thousands, empty later months, an annual 'Year' column."""
    p = tmp_path / "KPI.csv"
    p.write_bytes(
        "År;1;2;Year\r\n2020;1\u00a0900;;\r\n2019;1\u00a0876;1\u00a0890;1\u00a0909".encode()
    )
    frame = read_scb_year_by_month_csv(p, rel=p.name)
    assert _records(frame, ["period", "frequency", "value", "source_row"]) == [
        ("2020-01", "M", "1\u00a0900", 2),
        ("2020-02", "M", None, 2),
        ("2020", "Y", None, 2),
        ("2019-01", "M", "1\u00a0876", 3),
        ("2019-02", "M", "1\u00a0890", 3),
        ("2019", "Y", "1\u00a0909", 3),
    ]


def test_socialstyrelsen_swedish_months_and_title_place(tmp_path: Path) -> None:
    """Title row names the place (Dalarnas län -> looked up by clean), months are Swedish names."""
    p = _xlsx(
        tmp_path / "sos.xlsx",
        [
            ["Ekonomiskt bistånd, Dalarnas län"],
            ["År", "Månad", "Antal hushåll", "Utbetalt ekonomiskt bistånd tkr"],
            ["2014", "Januari", 3914, 26908],
        ],
    )
    frame = read_socialstyrelsen_monthly(p, rel=p.name)
    assert _records(
        frame, ["municipality_name", "indicator", "period", "value", "unit", "source_row"]
    ) == [
        ("Dalarnas län", "SOS_EKB_HUSHALL", "2014-01", 3914, "antal", 3),
        ("Dalarnas län", "SOS_EKB_UTBETALT", "2014-01", 26908, "tkr", 3),
    ]


def test_bolagsverket_one_indicator_per_form(tmp_path: Path) -> None:
    """Län number 20 -> 0020, month without zero padding, one indicator per company form."""
    p = tmp_path / "bv.csv"
    p.write_text(
        "År,Månad,Län,Aktiebolag,Enskild näringsidkare\n2020,1,20,37,93\n", encoding="utf-8"
    )
    frame = read_bolagsverket_monthly(p, rel=p.name)
    assert _records(frame, ["municipality", "indicator", "period", "value"]) == [
        ("0020", "BV_NYREG_AKTIEBOLAG", "2020-01", "37"),
        ("0020", "BV_NYREG_ENSKILD_NARINGSIDKARE", "2020-01", "93"),
    ]


def test_scb_bas_region_codes_and_months(tmp_path: Path) -> None:
    """regionkod '00'/'20'/'2080' -> '0000'/'0020'/'2080'; '2020M01' -> '2020-01'."""
    header = [
        "regionkod",
        "region",
        "kön",
        "månad",
        "antal arbetslösa",
        "antal sysselsatta och arbetslösa (arbetskraften)",
        "arbetslöshet",
    ]
    p = _xlsx(
        tmp_path / "bas.xlsx",
        [
            header,
            ["00", "Riket", "totalt", "2020M01", 290665, 4938702, 5.9],
            ["2080", "Falun", "totalt", "2020M01", 991, 27977, 3.5],
        ],
    )
    frame = read_scb_bas_monthly(p, rel=p.name)
    assert sorted(set(frame["municipality"].astype(str))) == ["0000", "2080"]
    assert set(frame["period"].astype(str)) == {"2020-01"}
    assert set(frame["indicator"].astype(str)) == {
        "SCB_BAS_ARBETSLOSHET",
        "SCB_BAS_ARBETSLOSA",
        "SCB_BAS_ARBETSKRAFT",
    }


def test_scb_housing_quarters_k1(tmp_path: Path) -> None:
    """Quarters 'K1'..'K4' with the year in another column; hustyp goes into the indicator id."""
    p = _xlsx(
        tmp_path / "byggande.xlsx",
        [
            ["region", "hustyp", "kvartal", "Paborjade", "Fardigstallda", "ar", "ar_kvartal"],
            ["Dalarnas län", "småhus", "K3", 84, 67, "1975", "1975K3"],
        ],
        sheet="Nybyggnation",
    )
    frame = read_scb_housing_quarterly(p, rel=p.name)
    assert _records(frame, ["municipality_name", "indicator", "period"]) == [
        ("Dalarnas län", "SCB_BYGG_PABORJADE__SMAHUS", "1975-Q3"),
        ("Dalarnas län", "SCB_BYGG_FARDIGSTALLDA__SMAHUS", "1975-Q3"),
    ]


def test_tillvaxtanalys_lan_quarterly_title_rows(tmp_path: Path) -> None:
    """Title, blank row and a header without names; '20 Dalarnas län' in one field; newest first."""
    p = _xlsx(
        tmp_path / "tva.xlsx",
        [
            ["Nystartade företag 2011- efter kvartal, län och variabel"],
            [None],
            [None, None, "antal nystartade företag"],
            ["2024Q1", "20 Dalarnas län", 433],
        ],
    )
    frame = read_tillvaxtanalys_lan_quarterly(p, rel=p.name)
    assert _records(frame, ["municipality", "indicator", "period", "value", "source_row"]) == [
        ("0020", "TVA_NYSTARTADE", "2024-Q1", 433, 4)
    ]


def test_missing_column_is_named(tmp_path: Path) -> None:
    """A table without a column the reader needs names the missing column and the columns found."""
    p = tmp_path / "bv.csv"
    p.write_text("År,Month,Län,Aktiebolag\n2020,1,20,37\n", encoding="utf-8")
    with pytest.raises(
        DataFileError,
        match=r"^bv\.csv, row 1: missing column\(s\) 'Månad'; found 'År', 'Month', 'Län', 'Aktiebolag'",
    ):
        read_bolagsverket_monthly(p, rel=p.name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020M01", ("2020-01", "M")),
        ("1975K1", ("1975-Q1", "Q")),
        ("2024Q1", ("2024-Q1", "Q")),
        ("2019-13", ("2019-13", None)),
        ("201203", ("201203", None)),
    ],
)
def test_normalise_period(text: str, expected: tuple[str, str | None]) -> None:
    """Period styles of the sources become canonical; an impossible month or a bare YYYYNN is left for clean to reject."""
    assert normalise_period(text) == expected


def test_yyyy0q_is_a_quarter_only_for_tillvaxtanalys() -> None:
    """Tillväxtanalys' 201001** headers are quarters when its readers ask for it, never by default."""
    assert normalise_period("201001**", yyyy0q=True) == ("2010-Q1", "Q")
    assert normalise_period("201203", yyyy0q=True) == ("2012-Q3", "Q")
    assert normalise_period("201001**") == ("201001**", None)


def test_region_codes() -> None:
    """Codes as sources write them become 4-character Kolada codes."""
    assert [region_code(c) for c in ("00", "06", 665, "665.0", "2080", "x")] == [
        "0000",
        "0006",
        "0665",
        "0665",
        "2080",
        None,
    ]
    assert split_region_label("50 no regional distribution") == ("0050", "no regional distribution")
