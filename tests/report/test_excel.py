"""rapport.xlsx: the report's tables open in Excel with Swedish headers and numbers as numbers."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from ks_analysis.params import report_params
from ks_analysis.paths import DEMO_DIR
from ks_analysis.report.build import build_report, load_report_inputs
from ks_analysis.report.excel import write_workbook


def test_workbook_lists_every_goal_and_keeps_numbers_numeric(tmp_path: Path) -> None:
    """The summary sheet has the 8 goals with their Swedish verdicts; P and forecasts are numbers
    with number formats, not text."""
    rep = build_report(load_report_inputs(report_params(period="2019-T2", raw=DEMO_DIR)))
    wb = load_workbook(write_workbook(rep, tmp_path / "rapport.xlsx"))
    assert wb.sheetnames == [
        "Sammanfattning",
        "Indikatorer",
        "Jämförelser",
        "Förändringar",
        "Analys och åtgärder",
        "Förra årets prognoser",
        "Sticker ut",
        "Vad som krävs",
    ]
    summary = list(wb["Sammanfattning"].iter_rows(values_only=True))
    assert summary[0][:6] == (
        "Mål",
        "Område",
        "Titel",
        "Typ",
        "Bedömning",
        "Sannolikhet att målet uppfylls",
    )
    assert [r[0] for r in summary[1:]] == list(range(1, 9))
    assert [r[4] for r in summary[1:]] == [g["status_text"] for g in rep["goals"]]
    ps = [r[5] for r in summary[1:] if r[5] is not None]
    assert ps and all(isinstance(p, float) and 0 <= p <= 1 for p in ps)
    assert wb["Sammanfattning"]["F2"].number_format == "0%"
    rows = list(wb["Indikatorer"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == sum(len(g["indicators"]) for g in rep["goals"])
    forecasts = [r[10] for r in rows if r[10] is not None]
    assert forecasts and all(isinstance(v, int | float) for v in forecasts)


def test_a_text_starting_with_equals_is_text_in_the_workbook(tmp_path: Path) -> None:
    """An analysis or title written '=...' is shown as the text it is, never run as a formula."""
    from openpyxl import Workbook, load_workbook

    from ks_analysis.report.excel import _sheet

    wb = Workbook()
    _sheet(wb, "Analys", [("Text", "")], [['=HYPERLINK("http://x")'], ["vanlig text"]])
    wb.save(tmp_path / "w.xlsx")
    ws = load_workbook(tmp_path / "w.xlsx")["Analys"]
    assert ws["A2"].data_type == "s" and ws["A2"].value == '=HYPERLINK("http://x")'
