"""Spreadsheet access for readers: python-calamine first, openpyxl's read-only mode for malformed xlsx."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ks_analysis.errors import DataFileError

__all__ = ["read_sheet_rows", "sheet_names"]


def sheet_names(path: Path, rel: str) -> list[str]:
    """Names of the sheets of a workbook, or a DataFileError for a file that is not one."""
    from python_calamine import CalamineWorkbook

    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise DataFileError(
            rel,
            f"is not a readable spreadsheet ({type(exc).__name__}: {exc})",
            fix="open it in Excel and save it again as .xlsx, or export it anew",
        ) from None


def read_sheet_rows(path: Path, rel: str, sheet: str | int = 0) -> list[list[object]]:
    """All cell values of one sheet as rows (row 1 first), empty cells as None.

    Calamine reads .xls and .xlsx fast and copes with the real files whose drawings are
    missing from the archive; openpyxl's read-only mode with ``reset_dimensions`` is the
    fallback when calamine cannot open an .xlsx.
    """
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
        if isinstance(sheet, str) and sheet not in names:
            raise DataFileError(
                rel,
                f"has no sheet {sheet!r}; sheets are {names}",
                fix="name the right sheet in the manifest's options (sheet: ...)",
            )
        ws = wb.get_sheet_by_name(sheet) if isinstance(sheet, str) else wb.get_sheet_by_index(sheet)
        rows = ws.to_python(skip_empty_area=False)
        return [[None if c == "" else c for c in r] for r in rows]
    except DataFileError:
        raise
    except Exception as calamine_exc:
        if path.suffix.lower() != ".xlsx" or not zipfile.is_zipfile(path):
            raise DataFileError(
                rel,
                f"is not a readable spreadsheet ({type(calamine_exc).__name__}: {calamine_exc})",
                fix="open it in Excel and save it again, or export it anew",
            ) from None
    try:
        import openpyxl

        wb2 = openpyxl.load_workbook(path, read_only=True, data_only=True)
        ws2 = wb2[sheet] if isinstance(sheet, str) else wb2.worksheets[sheet]
        ws2.reset_dimensions()
        return [list(r) for r in ws2.iter_rows(values_only=True)]
    except Exception as exc:
        raise DataFileError(
            rel,
            f"is not a readable spreadsheet ({type(exc).__name__}: {exc})",
            fix="open it in Excel and save it again, or export it anew",
        ) from None
