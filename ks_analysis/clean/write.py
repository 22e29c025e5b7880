"""Writing clean's outputs: the tidy table, the rejected rows and the manifest, swapped in as one folder."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pandas as pd

from ks_analysis._io import output_folder
from ks_analysis.clean.accounting import REJECTED_COLUMNS, CleanResult
from ks_analysis.errors import OutputError

__all__ = [
    "write_clean",
    "read_tidy",
    "OUTPUT_NAMES",
    "TIDY_FORMATS",
    "write_tidy_csv",
    "write_tidy_xlsx",
]

log = logging.getLogger(__name__)

#: clean's outputs in its output folder, by key.
OUTPUT_NAMES = {
    "indicators": "indicators.parquet",
    "rejected": "rejected.csv",
    "manifest": "manifest.json",
}


#: The tidy table's formats (``clean --format``) and their file names.
TIDY_FORMATS = {
    "parquet": "indicators.parquet",
    "csv": "indicators.csv",
    "xlsx": "indicators.xlsx",
}
#: The most data rows one Excel sheet holds (1 048 576 rows, one of them the header).
XLSX_MAX_ROWS = 1_048_575
_DATE_COLUMNS = ("period_end", "published")


def write_tidy_csv(tidy: pd.DataFrame, path: Path, *, excel_sv: bool = False) -> None:
    """The tidy table as CSV: UTF-8, ``,`` and decimal point; with ``excel_sv`` as Swedish Excel
    opens it on a double-click: UTF-8 with BOM, ``;`` and decimal comma. Dates are YYYY-MM-DD."""
    out = tidy.copy()
    for col in _DATE_COLUMNS:
        if col in out:
            out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    if excel_sv:
        # Excel runs a cell that starts with = + - @ as a formula (CSV injection, OWASP): a text
        # from the raw files such as '=HYPERLINK(...)' gets a leading ' and stays text.
        for col in out.columns:
            if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
                out[col] = out[col].map(_not_a_formula)
    out.to_csv(
        path,
        index=False,
        sep=";" if excel_sv else ",",
        decimal="," if excel_sv else ".",
        encoding="utf-8-sig" if excel_sv else "utf-8",
        lineterminator="\r\n" if excel_sv else "\n",
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _not_a_formula(v: object) -> object:
    """A text Excel would run as a formula, with a leading ' (which Excel shows as text)."""
    return "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v


def write_tidy_xlsx(tidy: pd.DataFrame, path: Path) -> None:
    """The tidy table as one Excel sheet: numbers as numbers, dates as dates, codes as text.

    Raises:
        OutputError: (exit 2) when the table has more rows than a sheet holds.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if len(tidy) > XLSX_MAX_ROWS:
        raise OutputError(
            f"the tidy table has {len(tidy):,} rows, more than the {XLSX_MAX_ROWS:,} an Excel "
            "sheet holds; use --format csv or parquet, or clean a smaller raw folder".replace(
                ",", " "
            ),
            exit_code=2,
        )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("indicators")
    columns = list(tidy.columns)
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    dates = {c for c in _DATE_COLUMNS if c in tidy}
    values = [
        pd.to_datetime(tidy[c]).dt.date.tolist()
        if c in dates
        else [None if pd.isna(v) else v for v in tidy[c].tolist()]
        for c in columns
    ]
    date_cells = [c in dates for c in columns]
    for row in zip(*values, strict=True):
        out = []
        for is_date, v in zip(date_cells, row, strict=True):
            if is_date:
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = "yyyy-mm-dd"
                out.append(cell)
            elif isinstance(v, str) and v.startswith("="):
                # openpyxl writes a text starting with '=' as a formula: keep it a text cell
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"
                out.append(cell)
            else:
                out.append(v)
        ws.append(out)
    wb.save(path)


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _others(out_dir: Path) -> list[Path]:
    """What else the output folder holds (e.g. ``.gitkeep``): carried over into the new folder.

    A sub-folder is refused: the folder is replaced as a whole, and clean does not copy trees.
    """
    if not out_dir.is_dir():
        return []
    # Every format's tidy file is clean's own: one of an earlier run is not carried over.
    ours = {*OUTPUT_NAMES.values(), *TIDY_FORMATS.values()}
    others = [p for p in out_dir.iterdir() if p.name not in ours]
    for p in others:
        if p.is_dir() and not p.is_symlink():
            raise OutputError(
                f"{out_dir}: holds the folder {p.name!r}, which clean did not write; clean replaces "
                "its output folder as a whole, so give it a folder of its own (e.g. data/processed)",
                exit_code=2,
            )
    return others


def write_clean(
    result: CleanResult,
    out_dir: Path,
    *,
    formats: tuple[str, ...] = ("parquet",),
    excel_sv: bool = False,
) -> dict[str, Path]:
    """Write the tidy table (``indicators.parquet``, ``.csv`` and/or ``.xlsx``, one per format in
    ``formats``), ``rejected.csv`` and ``manifest.json`` into ``out_dir`` as one set.

    The files are written into a temporary folder beside ``out_dir``, which then replaces
    ``out_dir`` in one rename (:func:`~ks_analysis._io.output_folder`): a reader or a kill sees the
    previous set or the new one, never a mix; a tidy file of a format not asked for this time
    is not kept. Other files in ``out_dir`` (a ``.gitkeep``) are carried over. One clean at a time
    writes a folder (a lock file beside it). ``excel_sv`` writes the CSV for Swedish Excel
    (:func:`write_tidy_csv`).

    Returns:
        The paths by key: ``indicators`` (the first format's file), ``indicators_<format>``,
        ``rejected`` and ``manifest``.
    """
    unknown = [f for f in formats if f not in TIDY_FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats must be some of {list(TIDY_FORMATS)}, not {list(formats)}")
    formats = tuple(dict.fromkeys(formats))
    out_dir = Path(out_dir).expanduser()
    out_dir = out_dir.resolve() if out_dir.exists() else out_dir.absolute()
    others = _others(out_dir)
    with output_folder(out_dir, doing="writing clean's outputs") as tmp:
        written = []
        for fmt in formats:
            tidy = tmp / TIDY_FORMATS[fmt]
            if fmt == "parquet":
                result.tidy.to_parquet(tidy, index=False)
            elif fmt == "csv":
                write_tidy_csv(result.tidy, tidy, excel_sv=excel_sv)
            else:
                write_tidy_xlsx(result.tidy, tidy)
            written.append(tidy)
        rejected = tmp / OUTPUT_NAMES["rejected"]
        result.rejected.to_csv(rejected, index=False, columns=REJECTED_COLUMNS)
        manifest = tmp / OUTPUT_NAMES["manifest"]
        manifest.write_text(
            json.dumps(result.manifest(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        for f in (*written, rejected, manifest):
            os.chmod(f, 0o644)
            _sync(f)
        for other in others:
            try:
                os.link(other, tmp / other.name, follow_symlinks=False)
            except OSError:
                shutil.copy2(other, tmp / other.name, follow_symlinks=False)
    paths = {f"indicators_{fmt}": out_dir / TIDY_FORMATS[fmt] for fmt in formats}
    return {
        "indicators": out_dir / TIDY_FORMATS[formats[0]],
        **paths,
        "rejected": out_dir / OUTPUT_NAMES["rejected"],
        "manifest": out_dir / OUTPUT_NAMES["manifest"],
    }


def read_tidy(path: Path) -> pd.DataFrame:
    """Read a tidy table written by :func:`write_clean`."""
    return pd.read_parquet(path)
