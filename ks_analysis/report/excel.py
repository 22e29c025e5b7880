"""rapport.xlsx beside rapport.html: the report's tables for analysts who live in Excel.

One sheet each for the summary, every indicator row, the comparisons, the changes since the
previous forecast, the steering goals' analysis and actions, last year's forecasts against its
outcome, the results that stand out and 'Vad som krävs' (what the rest of the year must bring
per indicator at risk, and where one indicator flips each goal). Headers are Swedish; numbers
are numbers (with Excel number formats, which Swedish Excel shows with a decimal comma), never
text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ks_analysis.report.model import Report
from ks_analysis.swedish import gender_sv, status_text

__all__ = ["write_workbook"]

#: Excel number formats by kind of column.
_FORMATS = {"percent": "0%", "number": "#,##0.00", "int": "#,##0", "year": "0"}


def _sheet(
    wb: Workbook, title: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
) -> Worksheet:
    """A sheet with a bold, frozen header row; ``columns`` are (header, format kind or '')."""
    ws = wb.create_sheet(title)
    ws.append([h for h, _ in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in rows:
        ws.append(list(row))
        # openpyxl takes a text starting with '=' (a title, an analysis) for a formula
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"
    for i, (header, kind) in enumerate(columns, start=1):
        letter = get_column_letter(i)
        if kind:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = _FORMATS[kind]
        width = max(
            [len(header)]
            + [len(str(c.value or "")) for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i)]
        )
        ws.column_dimensions[letter].width = min(60, max(8, width + 2))
    return ws


def _summary_rows(rep: Report) -> Iterable[Sequence[Any]]:
    for g in rep["goals"]:
        yield (
            g["id"], g["area"], g["title"], g["kind"], g["status_text"], g["p_met"],
            "Utfall" if g["basis"] == "outcome" else "Prognos" if g["basis"] else "",
            g.get("reason", ""),
        )  # fmt: skip


def _indicator_rows(rep: Report) -> Iterable[Sequence[Any]]:
    for g in rep["goals"]:
        for r in g["indicators"]:
            yield (
                g["id"], r["indicator"], r["title"], r["ort"] or "", gender_sv(r["gender"]),
                {"target": "målindikator", "signal": "signal under året", "context": "sammanhang"}[r["role"]],
                r["unit"], r["target"], r["last_year"], r["last_value"], r["forecast"], r["lo80"],
                r["hi80"], r["p_met"], status_text(r["status"], r["basis"], indicator=True),
                r.get("reason") or "",
            )  # fmt: skip


def _comparison_rows(rep: Report) -> Iterable[Sequence[Any]]:
    for g in rep["goals"]:
        for r in g["indicators"]:
            c = r.get("comparison")
            if c:
                yield (
                    g["id"], r["indicator"], r["title"], gender_sv(r["gender"]), c["year"],
                    c["kommun"], c["lan"], c["peers"], c["riket"],
                )  # fmt: skip


def _change_rows(rep: Report) -> Iterable[Sequence[Any]]:
    for c in rep.get("changes") or []:
        yield (
            c["goal"],
            "",
            c.get("from_text"),
            c.get("to_text"),
            c.get("from_p"),
            c.get("to_p"),
            "",
        )
        for i in c.get("indicators", []):
            yield (
                c["goal"], i["title"], i["from_text"], i["to_text"], i["from_p"], i["to_p"],
                i.get("reason", ""),
            )  # fmt: skip


def _standout_rows(rep: Report) -> Iterable[Sequence[Any]]:
    for f in rep.get("stands_out") or []:
        better = f.get("better")
        yield (
            f.get("indicator"), f.get("title"), f.get("gender"), f.get("year"), f.get("value"),
            f.get("peer_median"), f.get("band_lo"), f.get("band_hi"),
            "" if better is None else "bättre" if better else "sämre", f.get("reason"),
        )  # fmt: skip


def _analysis_rows(rep: Report) -> Iterable[Sequence[Any]]:
    """One row per action of each steering goal (one row with the analysis alone when there is none)."""
    for g in rep["goals"]:
        if g["kind"] != "styrande":
            continue
        a = g.get("analysis") or None
        analys = a["analys"] if a else ""
        actions = a["atgarder"] if a else []
        note = "Åtgärder saknas" if g.get("actions_missing") else ""
        for n, act in enumerate(actions or [""], start=1):
            yield (g["id"], g["title"], g["status_text"], analys if n == 1 else "", act, note)


def _last_year_rows(rep: Report) -> Iterable[Sequence[Any]]:
    """Last year's T1 and T2 verdicts per steering goal against last year's outcome."""
    ly = rep.get("last_year_forecasts")
    for g in ly["goals"] if ly else []:
        yield (
            ly["year"] if ly else None, g["goal"], g["title"],
            g["t1"]["status_text"], g["t1"]["p_met"], g["t2"]["status_text"], g["t2"]["p_met"],
            g["outcome"]["status_text"] if g["outcome_known"] else "Ännu inte känt",
        )  # fmt: skip


def write_workbook(rep: Report, path: Path) -> Path:
    """Write the report's tables to ``path`` (an .xlsx); returns the path."""
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    _sheet(
        wb, "Sammanfattning",
        [("Mål", "int"), ("Område", ""), ("Titel", ""), ("Typ", ""), ("Bedömning", ""),
         ("Sannolikhet att målet uppfylls", "percent"), ("Underlag", ""), ("Motivering", "")],
        _summary_rows(rep),
    )  # fmt: skip
    _sheet(
        wb, "Indikatorer",
        [("Mål", "int"), ("Indikator", ""), ("Titel", ""), ("Ort", ""), ("Kön", ""), ("Roll", ""),
         ("Enhet", ""), ("Mål för indikatorn", ""), ("Senaste år", "year"), ("Senaste utfall", "number"),
         ("Prognos/utfall i år", "number"), ("80 % lägre", "number"), ("80 % övre", "number"),
         ("Sannolikhet att målet nås", "percent"), ("Bedömning", ""), ("Skäl", "")],
        _indicator_rows(rep),
    )  # fmt: skip
    _sheet(
        wb, "Jämförelser",
        [("Mål", "int"), ("Indikator", ""), ("Titel", ""), ("Kön", ""), ("År", "year"),
         ("Kommunen", "number"), ("Länet", "number"), ("Jämförelsegrupp", "number"), ("Riket", "number")],
        _comparison_rows(rep),
    )  # fmt: skip
    _sheet(
        wb, "Förändringar",
        [("Mål", "int"), ("Indikator", ""), ("Från", ""), ("Till", ""),
         ("Sannolikhet före", "percent"), ("Sannolikhet nu", "percent"), ("Orsak", "")],
        _change_rows(rep),
    )  # fmt: skip
    _sheet(
        wb, "Analys och åtgärder",
        [("Mål", "int"), ("Titel", ""), ("Bedömning", ""), ("Analys", ""), ("Åtgärd", ""),
         ("Anmärkning", "")],
        _analysis_rows(rep),
    )  # fmt: skip
    _sheet(
        wb, "Förra årets prognoser",
        [("År", "year"), ("Mål", "int"), ("Titel", ""), ("Delårsrapport 1", ""),
         ("Sannolikhet delårsrapport 1", "percent"), ("Delårsrapport 2", ""),
         ("Sannolikhet delårsrapport 2", "percent"), ("Utfall", "")],
        _last_year_rows(rep),
    )  # fmt: skip
    _sheet(
        wb, "Sticker ut",
        [("Indikator", ""), ("Titel", ""), ("Kön", ""), ("År", "year"), ("Värde", "number"),
         ("Median jämförelse", "number"), ("Band lägre", "number"), ("Band övre", "number"),
         ("Riktning", ""), ("Varför", "")],
        _standout_rows(rep),
    )  # fmt: skip
    # imported here: the what_it_takes model needs pandas, which `ks-analysis --help` never loads
    from ks_analysis.report import what_it_takes as wit

    _sheet(wb, "Vad som krävs", wit.SHEET_COLUMNS, wit.sheet_rows(rep))
    wb.save(path)
    return path
