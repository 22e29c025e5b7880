"""Spreadsheet access for readers: python-calamine first, openpyxl's read-only mode for malformed xlsx."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ks_analysis.errors import DataFileError
from ks_analysis.paths import guard_read

__all__ = ["read_sheet_rows", "sheet_names", "check_workbook", "MAX_CELLS", "MAX_UNPACKED_BYTES"]


def _n(x: float) -> str:
    """A count with a space between thousands, as in the package's other messages: 17 179 869 184."""
    return f"{round(x):,}".replace(",", " ")


#: The most cells a sheet may span (rows x columns). The largest real sheet read (SCB BAS per
#: kommun and month) spans about 1 million; a sheet is laid out as a grid in memory, so one cell
#: at XFD1048576 would ask for 17 billion.
MAX_CELLS = 50_000_000
#: The most bytes a workbook's zip members may unpack to, and the largest packing ratio of a
#: member over 1 MB (XML packs about 10:1; a zip bomb 1000:1 or more).
MAX_UNPACKED_BYTES = 1024**3
MAX_RATIO = 200
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')
#: Cell references with a column of two or three letters (AA and beyond); a sheet whose cells
#: all lie in A..Z spans at most 26 x 1 048 576 cells, under the limit, so only these matter.
_WIDE_REF = re.compile(rb'r="([A-Z]{2,3})([0-9]{1,7})"')
#: Row numbers (``<row r="12">``; a cell's r starts with a letter). Literal-prefixed patterns:
#: the checks stay a fraction of parsing the sheet.
_ROW_REF = re.compile(rb'r="([0-9]{1,7})"')


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _extent(ref: bytes) -> tuple[int, int]:
    """(rows, columns) up to a cell reference like b'XFD1048576' (or the end of a range)."""
    end = ref.split(b":")[-1]
    m = re.fullmatch(rb"([A-Z]+)(\d+)", end)
    return (int(m.group(2)), _col_number(m.group(1))) if m else (0, 0)


def check_workbook(path: Path, rel: str) -> None:
    """Refuse a workbook that would take the process down, before any parser sees it.

    For a zip-based workbook (.xlsx, .xlsm, .ods): the members' declared unpacked sizes (in total
    at most :data:`MAX_UNPACKED_BYTES`) and packing ratios (at most :data:`MAX_RATIO`), then each
    sheet's declared ``dimension`` and the cells it really has (read as a stream, never unpacked
    whole): at most :data:`MAX_CELLS` spanned. Each refusal is one DataFileError.
    """
    if not zipfile.is_zipfile(path):
        return
    fix = "open it in Excel, delete the stray far-away cells or rows, save it again, or export the data anew"
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_UNPACKED_BYTES or len(infos) > 10_000:
                raise DataFileError(
                    rel,
                    f"unpacks to {_n(total / 1e6)} MB in {len(infos)} parts, over the limit of "
                    f"{_n(MAX_UNPACKED_BYTES / 1e6)} MB for a workbook (a zip bomb?)",
                    fix=fix,
                )
            for i in infos:
                if i.file_size > 1_000_000 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                    raise DataFileError(
                        rel,
                        f"part {i.filename!r} packs {_n(i.file_size / 1e6)} MB into "
                        f"{_n(i.compress_size / 1e3)} kB, a ratio over {MAX_RATIO}:1 that no "
                        "spreadsheet has (a zip bomb?)",
                        fix=fix,
                    )
            for i in infos:
                if re.fullmatch(r"xl/worksheets/[^/]+\.xml", i.filename):
                    _check_sheet(zf, i, rel, fix)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DataFileError(
            rel,
            f"is not a readable spreadsheet ({type(exc).__name__}: {str(exc)[:200]})",
            fix="open it in Excel and save it again, or export it anew",
        ) from None


def _check_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, rel: str, fix: str) -> None:
    """DataFileError when a sheet declares or has a cell so far out that its grid is too big."""
    rows, cols = 0, 26  # columns A..Z are assumed; wider ones are found below
    declared: bytes | None = None
    tail = b""
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            data = tail + chunk
            if declared is None and (m := _DIMENSION.search(data)):
                declared = m.group(1)
                r, c = _extent(declared)
                rows, cols = max(rows, r), max(cols, c)
            wide = _WIDE_REF.findall(data)
            if wide:
                rows = max(rows, max(int(r) for _c, r in wide))
                cols = max(cols, max(_col_number(c) for c, _r in wide))
            numbered = _ROW_REF.findall(data)
            if numbered:
                rows = max(rows, max(int(r) for r in numbered))
            if rows * cols > MAX_CELLS:
                sheet = info.filename.rsplit("/", 1)[-1]
                what = (
                    f"declares the range {declared.decode()}"
                    if declared and _extent(declared)[0] * _extent(declared)[1] > MAX_CELLS
                    else f"has a cell at row {_n(rows)}, column {_n(cols)}"
                )
                raise DataFileError(
                    rel,
                    f"sheet {sheet} {what}: {_n(rows * cols)} cells, over the limit of "
                    f"{_n(MAX_CELLS)} a sheet may span",
                    fix=fix,
                )
            tail = data[-256:]


def sheet_names(path: Path, rel: str) -> list[str]:
    """Names of the sheets of a workbook, or a DataFileError for a file that is not one."""
    from python_calamine import CalamineWorkbook

    path = guard_read(path, entry=rel)
    check_workbook(path, rel)
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
    fallback when calamine cannot open an .xlsx. The workbook is checked first
    (:func:`check_workbook`): no dimension or zip bomb reaches a parser.
    """
    from python_calamine import CalamineWorkbook

    path = guard_read(path, entry=rel)
    check_workbook(path, rel)

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
