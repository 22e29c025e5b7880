"""Readers for agency tables: Arbetsförmedlingen monthly registered unemployed, Tillväxtanalys new firms."""

from __future__ import annotations

import sqlite3
import urllib.parse
from pathlib import Path

import pandas as pd

from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import (
    kommun_code,
    normalise_period,
    read_csv_text,
    swedish_decimal,
    too_many_fields_reason,
)
from ks_analysis.ingest.frame import check_columns, raw_frame
from ks_analysis.ingest.local import _read_text_table
from ks_analysis.ingest.registry import reader
from ks_analysis.paths import guard_read

__all__ = ["read_arbetsformedlingen_monthly", "read_tillvaxtanalys_quarterly"]


def _sqlite_rows(path: Path, rel: str, table: str) -> tuple[list[str], list[tuple[object, ...]]]:
    """(column names, rows) of ``table``, the database opened read-only and immutable.

    ``immutable=1`` makes SQLite skip locking and the write-ahead log: nothing (no ``-wal`` or
    ``-shm`` file) ever appears beside the raw file, and a WAL-mode file in a read-only folder
    is read like any other. (A WAL file's not yet checkpointed changes are not seen, which is
    right for an archived raw file: it is read as its bytes are.)
    """
    real = guard_read(path, entry=rel)
    uri = "file:" + urllib.parse.quote(str(real)) + "?mode=ro&immutable=1"
    con = sqlite3.connect(uri, uri=True)
    try:
        # The table name comes from the manifest, which the analyst writes; quoted as an identifier.
        quoted = '"' + table.replace('"', '""') + '"'
        cur = con.execute(f"SELECT * FROM {quoted} ORDER BY id")
        header = [str(d[0]) for d in cur.description]
        return header, cur.fetchall()
    finally:
        con.close()


@reader("arbetsformedlingen_monthly")
def read_arbetsformedlingen_monthly(
    path: Path,
    *,
    rel: str,
    indicator: str = "AF_ARBETSLOSA",
    unit: str = "antal",
    source: str = "arbetsformedlingen",
    table: str = "unemployed",
    **_: object,
) -> pd.DataFrame:
    """Monthly registered unemployed per kommun, keyed by kommun *name*.

    Reads the SQLite table ``unemployed(id, period 'YYYY-MM', county, municipality,
    unemployedTotal)`` or a CSV with the same columns. "Uppgift saknas" rows (no kommun) are
    kept as raw rows so that clean rejects and counts them. ``source_row`` is the table's ``id``
    for SQLite and the line number for CSV.
    """
    if path.suffix.lower() in (".sqlite", ".sqlite3", ".db"):
        try:
            header, records = _sqlite_rows(path, rel, table)
        except sqlite3.DatabaseError as exc:
            raise DataFileError(
                rel,
                f"is not a readable SQLite database ({exc})",
                fix=f"check the file, or that it has a table {table!r}",
            ) from None
        lower = [h.lower() for h in header]
        check_columns(
            rel,
            lower,
            ["period", "municipality", "unemployedtotal"],
            "expected columns period, county, municipality, unemployedTotal",
        )
        # Columns straight from the rows (no frame and no dict per row); ids are the row numbers.
        cols = list(zip(*records, strict=True)) if records else [() for _ in header]
        column = {h.lower(): cols[j] for j, h in enumerate(header)}
        row_numbers: list[int] = (
            [int(i) for i in column["id"]] if "id" in column else list(range(1, len(records) + 1))
        )
        period_raw: list[object] = list(column["period"])
        names: list[object] = list(column["municipality"])
        values: list[object] = list(column["unemployedtotal"])
    else:
        header, numbered = _read_text_table(path, rel)
        row_numbers = [i for i, _ in numbered]  # lines as an editor shows them
        rows = [r for _, r in numbered]
        lower = [h.lower() for h in header]
        check_columns(
            rel,
            lower,
            ["period", "municipality", "unemployedtotal"],
            "expected columns period, county, municipality, unemployedTotal",
        )
        key = {h.lower(): h for h in header}
        period_raw = [r.get(key["period"]) if key["period"] in r else r.get("period") for r in rows]
        names = [r.get(key["municipality"], r.get("municipality")) for r in rows]
        values = [r.get(key["unemployedtotal"], r.get("unemployedtotal")) for r in rows]
    cache: dict[object, tuple[str, str | None]] = {}
    periods = [
        cache[p] if p in cache else cache.setdefault(p, normalise_period(p)) for p in period_raw
    ]
    return raw_frame(
        {
            "municipality_name": names,
            "period": [p for p, _ in periods],
            "frequency": [f for _, f in periods],
            "value": values,
            "source_row": row_numbers,
        },
        indicator=indicator,
        gender="T",
        unit=unit,
        source=source,
        source_file=rel,
    )


@reader("tillvaxtanalys_quarterly")
def read_tillvaxtanalys_quarterly(
    path: Path,
    *,
    rel: str,
    indicator: str = "TVA_NYSTARTADE",
    unit: str = "antal",
    source: str = "tillvaxtanalys",
    sheet: str = "Kommun",
    **_: object,
) -> pd.DataFrame:
    """Quarterly new firms per kommun, wide: ``Kommunnummer | Kommun | 200701 | 200702 | ...``.

    Kommun codes lack the leading zero (``665``); suppressed small counts are ``..``; header
    flags ``*``, ``**``, ``***`` mark definition breaks. When a quarter appears under two flags
    (2010 in the real file) the one with more stars is the newer definition and is kept; the
    older copies are passed on with a ``reject`` reason so they are counted, not lost. The
    ``Samtliga`` total row is passed on as an aggregate.
    """
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
        from ks_analysis.ingest._excel import read_sheet_rows

        grid = read_sheet_rows(path, rel, sheet)
    else:
        import csv
        import io

        csvtext, _data = read_csv_text(path, rel)
        fix = swedish_decimal if csvtext.decimal_comma else (lambda c: c)
        grid = [
            [fix(c) for c in r]
            for r in csv.reader(io.StringIO(csvtext.text), delimiter=csvtext.delimiter)
        ]
    if not grid:
        raise DataFileError(rel, "is empty", fix="export the Tillväxtanalys table again")
    header = [str(h).strip().removesuffix(".0") if h is not None else "" for h in grid[0]]
    # Sheet 'Kommun' has Kommunnummer | Kommun; sheet 'Län' only the län name in column A.
    by_name = header[:1] == ["Län"]
    if not by_name:
        check_columns(
            rel,
            header[:2],
            ["Kommunnummer", "Kommun"],
            "the first two columns are Kommunnummer and Kommun (or, on sheet Län, the column Län)",
        )
    first = 1 if by_name else 2
    qcols: list[tuple[int, str, str, int]] = []
    for j, h in enumerate(header[first:], start=first):
        period, freq = normalise_period(h, yyyy0q=True)
        stars = len(h) - len(h.rstrip("*"))
        qcols.append((j, period if freq == "Q" else h, h, stars))
    newest: dict[str, int] = {}
    for _j, period, _h, stars in qcols:
        newest[period] = max(newest.get(period, 0), stars)
    out: dict[str, list[object]] = {
        c: []
        for c in ["municipality", "municipality_name", "period", "value", "source_row", "reject"]
    }
    for i, row in enumerate(grid[1:], start=2):
        if not any(c not in (None, "") for c in row):
            continue
        code_cell = None if by_name or not row else row[0]
        code = kommun_code(code_cell)
        name_cell = row[0] if by_name else (row[1] if len(row) > 1 else None)
        name = str(name_cell).strip() if name_cell is not None else ""
        extra = [j for j in range(len(header), len(row)) if row[j] not in (None, "")]
        split = (
            too_many_fields_reason(len(row), len(header), ",") if len(row) > len(header) else None
        )
        for j in extra:  # cells past the header have no period: passed on, so they are counted
            out["municipality"].append(code)
            out["municipality_name"].append(name or None)
            out["period"].append(None)
            out["value"].append(row[j])
            out["source_row"].append(i)
            out["reject"].append(split)
        for j, period, raw_header, stars in qcols:
            out["municipality"].append(code)
            out["municipality_name"].append(name or None)
            out["period"].append(period)
            out["value"].append(row[j] if j < len(row) else None)
            out["source_row"].append(i)
            out["reject"].append(
                split
                if split
                else f"older definition of {period} (column {raw_header!r}); the newer column with {'*' * newest[period]} is kept"
                if stars < newest[period]
                else None
            )
    frame = raw_frame(
        out,
        indicator=indicator,
        gender="T",
        frequency="Q",
        unit=unit,
        source=source,
        source_file=rel,
    )
    return frame
