"""Readers for the project's own templates: the long CSV format and the municipality's local registers.

Templates (documented in docs/templates.md):

* **long CSV** (``long_csv``): ``municipality`` (code) or ``kommun`` (name), ``indicator``,
  optional ``gender`` (T/K/M, default T), ``period`` (``2019``, ``2019-Q1``/``2019K1``,
  ``2019-03``/``2019M03``), ``value``, optional ``unit``. Comma or semicolon separated (Swedish Excel's ';' with decimal comma), UTF-8 or cp1252.
* **local register** (``local_register``): ``indicator, ort, period, value, comment``, one row per
  indicator, locality (ort) and month. ``ort`` may be empty for kommun-wide counts. Rows with an
  ort become the indicator ``<indicator>__<ORT>`` (e.g. ``LOKAL_BYGGKLARA_TOMTER__HOK``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import (
    kommun_code,
    normalise_period,
    option_place,
    ort_key,
    read_csv_text,
    swedish_decimal,
    too_many_fields_reason,
)
from ks_analysis.ingest.frame import check_columns, raw_frame
from ks_analysis.ingest.registry import reader
from ks_analysis.params import default_municipality

__all__ = ["read_long_csv", "read_local_register"]


#: Key of a row dict that holds the rejection reason of a malformed record (more fields than the header).
EXTRA = "\x00extra"
#: Key of a row dict that holds the record's text as written (for rejected.csv).
LINE = "\x00line"


def _read_text_table(
    path: Path, rel: str
) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """(header, [(line, row)]) of a small CSV, sniffed as Swedish tools write it.

    Encoding (UTF-8 with or without BOM, else cp1252), delimiter (',' or Swedish Excel's ';')
    and CRLF or LF are sniffed; in a ';' file numbers with a decimal comma ('12,5') are read as
    '12.5'. ``line`` is where the record starts in the file, as an editor shows it (blank lines
    count). A record with more or fewer fields than the header is kept as a row whose
    :data:`EXTRA` key holds the reason (clean rejects it): its fields cannot be placed without
    guessing.
    """
    csvtext, _data = read_csv_text(path, rel)
    # csv.reader, not DictReader: the reader's line_num tells where each record ends, so the line
    # where the next one starts is known also after blank lines (which come back as [] and are skipped).
    records = csv.reader(io.StringIO(csvtext.text), delimiter=csvtext.delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str | None]]] = []
    end = 0  # the line where the previous record ended
    try:
        for rec in records:
            start, end = end + 1, records.line_num
            if not rec:
                continue
            if header is None:
                header = [h.strip().lower() for h in rec]
                continue
            cells = [
                swedish_decimal(c.strip()) if csvtext.decimal_comma else c.strip() for c in rec
            ]
            row: dict[str, str | None] = {
                h: (cells[j] if j < len(cells) else None) for j, h in enumerate(header)
            }
            # even an empty extra field: '12,5,' is no 12; and a record short of fields (a
            # line break inside a field, a lost delimiter) cannot be placed either
            if len(rec) != len(header):
                row[EXTRA] = too_many_fields_reason(len(rec), len(header), csvtext.delimiter)
                row[LINE] = csvtext.delimiter.join(rec)[:200]
            rows.append((start, row))
    except csv.Error as exc:
        raise DataFileError(
            rel,
            f"is not readable CSV ({exc})",
            row=records.line_num,
            fix="check the quoting on that line, or export the file again",
        ) from None
    return header or [], rows


def _extra(rows: list[tuple[int, dict[str, str | None]]]) -> list[object]:
    """The reader's reject reason per row (None for a well-formed record)."""
    return [r.get(EXTRA) for _, r in rows]


@reader("long_csv")
def read_long_csv(
    path: Path,
    *,
    rel: str,
    source: str = "lokal",
    unit: str = "",
    indicator: str | None = None,
    **_: object,
) -> pd.DataFrame:
    """Read the package's long CSV template (one observation per line)."""
    header, rows = _read_text_table(path, rel)
    if not rows:
        raise DataFileError(
            rel,
            "has a header but no data rows",
            row=1,
            fix="add data rows or remove the file from the sources manifest",
        )
    needed = ["period", "value"] + ([] if indicator else ["indicator"])
    check_columns(
        rel,
        header,
        needed,
        "the long CSV template has columns municipality|kommun, indicator, gender, period, value, unit",
    )
    if "municipality" not in header and "kommun" not in header:
        check_columns(
            rel,
            header,
            ["municipality"],
            "name the place with a 'municipality' code or a 'kommun' name column",
        )
    out: dict[str, list[object]] = {
        c: []
        for c in [
            "municipality",
            "municipality_name",
            "indicator",
            "gender",
            "frequency",
            "period",
            "value",
            "unit",
            "source_row",
        ]
    }
    reject = _extra(rows)
    for i, r in rows:
        period, freq = normalise_period(r.get("period"))
        out["municipality"].append(kommun_code(r.get("municipality")))
        out["municipality_name"].append(r.get("kommun") or None)
        out["indicator"].append((indicator or r.get("indicator") or "").strip().upper())
        out["gender"].append((r.get("gender") or "T").strip().upper())
        out["frequency"].append(freq)
        out["period"].append(period)
        out["value"].append(r.get("value") if r.get(EXTRA) is None else r.get(LINE))
        out["unit"].append(r.get("unit") or unit)
        out["source_row"].append(i)
    return raw_frame({**out, "reject": reject}, source=source, source_file=rel)


@reader("local_register")
def read_local_register(
    path: Path,
    *,
    rel: str,
    municipality: str | None = None,
    source: str = "lokal",
    units: dict[str, str] | None = None,
    **_: object,
) -> pd.DataFrame:
    """Read a local register (build-ready lots, completed dwellings, council viewers ...) per ort and month."""
    header, rows = _read_text_table(path, rel)
    if not rows:
        raise DataFileError(
            rel,
            "has a header but no data rows",
            row=1,
            fix="add data rows or remove the file from the sources manifest",
        )
    check_columns(
        rel,
        header,
        ["indicator", "ort", "period", "value"],
        "the local register template has columns indicator, ort, period, value, comment",
    )
    units = units or {}
    out: dict[str, list[object]] = {
        c: [] for c in ["indicator", "frequency", "period", "value", "unit", "source_row"]
    }
    for i, r in rows:
        base = (r.get("indicator") or "").strip().upper()
        ort = (r.get("ort") or "").strip()
        period, freq = normalise_period(r.get("period"))
        out["indicator"].append(f"{base}__{ort_key(ort)}" if ort else base)
        out["frequency"].append(freq)
        out["period"].append(period)
        out["value"].append(r.get("value") if r.get(EXTRA) is None else r.get(LINE))
        out["unit"].append(units.get(base, "antal"))
        out["source_row"].append(i)
    # the goal catalogue's kommun, or the manifest's (checked: a wrong one would reject every row)
    place = option_place(municipality, rel) if municipality else default_municipality()
    reject = _extra(rows)
    return raw_frame(
        {**out, "reject": reject},
        municipality=kommun_code(place),
        gender="T",
        source=source,
        source_file=rel,
    )
