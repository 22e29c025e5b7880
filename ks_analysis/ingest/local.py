"""Readers for the project's own templates: the long CSV format and the municipality's local registers.

Templates (documented in docs/templates.md):

* **long CSV** (``long_csv``): ``municipality`` (code) or ``kommun`` (name), ``indicator``,
  optional ``gender`` (T/K/M, default T), ``period`` (``2019``, ``2019-Q1``/``2019K1``,
  ``2019-03``/``2019M03``), ``value``, optional ``unit``. Comma or semicolon separated, UTF-8.
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
from ks_analysis.ingest._common import normalise_period, ort_key, sniff_delimiter
from ks_analysis.ingest.frame import check_columns, raw_frame
from ks_analysis.ingest.registry import reader
from ks_analysis.params import default_municipality

__all__ = ["read_long_csv", "read_local_register"]


def _read_text_table(
    path: Path, rel: str
) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """(header, [(line, row)]) of a small UTF-8 CSV, with a clear error for binary junk or another
    encoding. ``line`` is where the record starts in the file, as an editor shows it (blank lines count)."""
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise DataFileError(
            rel, "is a binary file, not CSV text", fix="export the table again as CSV (UTF-8)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFileError(
            rel,
            f"is not UTF-8 (byte {data[exc.start]:#04x})",
            row=line,
            fix="save the file as UTF-8 (in Excel: 'CSV UTF-8')",
        ) from None
    if not text.strip():
        raise DataFileError(
            rel,
            "is empty",
            fix="export the data again, or remove the file from the sources manifest",
        )
    first = next(line for line in text.splitlines() if line.strip())
    # csv.reader, not DictReader: the reader's line_num tells where each record ends, so the line
    # where the next one starts is known also after blank lines (which come back as [] and are skipped).
    records = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(first))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str | None]]] = []
    end = 0  # the line where the previous record ended
    for rec in records:
        start, end = end + 1, records.line_num
        if not rec:
            continue
        if header is None:
            header = [h.strip().lower() for h in rec]
            continue
        rows.append(
            (start, {h: (rec[j].strip() if j < len(rec) else None) for j, h in enumerate(header)})
        )
    return header or [], rows


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
    for i, r in rows:
        period, freq = normalise_period(r.get("period"))
        code = (r.get("municipality") or "").strip()
        out["municipality"].append(code.zfill(4) if code.isdigit() else (code or None))
        out["municipality_name"].append(r.get("kommun") or None)
        out["indicator"].append((indicator or r.get("indicator") or "").strip().upper())
        out["gender"].append((r.get("gender") or "T").strip().upper())
        out["frequency"].append(freq)
        out["period"].append(period)
        out["value"].append(r.get("value"))
        out["unit"].append(r.get("unit") or unit)
        out["source_row"].append(i)
    return raw_frame(out, source=source, source_file=rel)


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
        out["value"].append(r.get("value"))
        out["unit"].append(units.get(base, "antal"))
        out["source_row"].append(i)
    municipality = municipality or default_municipality()  # the goal catalogue's kommun
    return raw_frame(
        out, municipality=str(municipality).zfill(4), gender="T", source=source, source_file=rel
    )
