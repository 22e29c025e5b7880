"""Reader for PC-Axis (``.px``) files: the text format of PX-Web, SCB's and many kommuner's tables.

A PX file is a header of ``KEYWORD("arg")=value;`` statements (``STUB`` and ``HEADING`` name the
dimensions, ``VALUES`` and ``CODES`` their labels and codes) followed by ``DATA=`` and one token
per cell in STUB x HEADING order, the last dimension fastest. Files written on Windows say
``CHARSET="ANSI"`` and are cp1252/latin-1, not UTF-8.

Missing markers differ per file: ``..`` is always "not available", but ``-`` means **zero** in
some files (Linköping's quarterly ``ksi2242.px``: "Påbörjade flerbostadshus ``-``" where all
started dwellings are småhus) and **not yet published** in others (the monthly ``ksi5555.px``,
where every month after the vintage is ``-``). The manifest must say which (option ``dash``);
the reader does not guess.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis import geo as geo_mod
from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import MONTHS_SV, local_id, read_raw_bytes
from ks_analysis.ingest.frame import raw_frame
from ks_analysis.ingest.registry import reader

__all__ = ["PxTable", "parse_px", "read_pcaxis"]

#: Dimension names that carry the year, the quarter or the month, and the place.
YEAR_DIMS = ("tid", "år", "ar", "year")
QUARTER_DIMS = ("kvartal", "quarter")
MONTH_DIMS = ("månad", "manad", "month")
REGION_DIMS = ("kommun", "region", "län", "lan")
DASH_MEANINGS = ("zero", "unpublished")


class PxTable:
    """A parsed PX file: dimensions in data order, their labels and codes, and the data tokens."""

    def __init__(
        self,
        keywords: dict[str, str],
        dims: list[str],
        values: dict[str, list[str]],
        codes: dict[str, list[str]],
        tokens: list[str],
        token_lines: np.ndarray,
    ) -> None:
        self.keywords = keywords
        self.dims = dims
        self.values = values
        self.codes = codes
        self.tokens = tokens
        self.token_lines = token_lines


_STATEMENT = re.compile(
    r'^\s*([A-Z][A-Z0-9-]*)(?:\[[^\]]*\])?(?:\("([^"]*)"(?:,"([^"]*)")?\))?\s*=', re.S
)


def _split_statements(header: str) -> list[str]:
    """Header statements, split at ';' outside quotes."""
    out: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if "".join(buf).strip():
        out.append("".join(buf))
    return out


def _strings(value: str) -> list[str]:
    """The quoted strings of a statement's value; strings split over lines ("a" "b") are joined."""
    parts = re.findall(r'"((?:[^"])*)"', value)
    return [p.replace("\r", "").replace("\n", "") for p in parts]


def _list_value(value: str) -> list[str]:
    """A comma-separated list of quoted strings (``"a","b",\\n"c"``) as a list."""
    items = re.split(r'"\s*,\s*"', value.strip().strip(";").strip())
    return [i.strip().strip('"').replace("\n", "").replace("\r", "") for i in items]


def parse_px(path: Path, rel: str) -> PxTable:
    """Parse a PX file.

    Raises:
        DataFileError: naming the file and line for a file without ``DATA=``, without
            ``STUB``/``HEADING``, or whose number of data cells differs from the dimensions'.
    """
    data = read_raw_bytes(path, rel)  # inside the raw root, within the size limit
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(data) > 3 and b"\x00" in data[:4]):
        raise DataFileError(
            rel,
            "is UTF-16 text, which is not read as a PX file",
            fix="save it again as the PX file it was (ANSI/latin-1, as SCB's PX-Web writes it) or UTF-8",
        )
    charset_m = re.search(rb'CHARSET="([^"]*)"', data[:4000])
    charset = (charset_m.group(1).decode("ascii", "replace") if charset_m else "").upper()
    encoding = "cp1252" if charset == "ANSI" else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # every byte is a latin-1 character
    m = re.search(r"^DATA\s*=", text, re.M)
    if m is None:
        raise DataFileError(
            rel, "has no DATA= block", fix="check that the file is a complete PC-Axis file"
        )
    header, body = text[: m.start()], text[m.end() :]
    header_lines = header.count("\n")
    keywords: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    codes: dict[str, list[str]] = {}
    for st in _split_statements(header):
        sm = _STATEMENT.match(st)
        if not sm:
            continue
        key, arg = sm.group(1), sm.group(2)
        value = st[sm.end() :]
        if key == "VALUES" and arg is not None:
            values[arg] = _list_value(value)
        elif key == "CODES" and arg is not None:
            codes[arg] = _list_value(value)
        elif arg is None:
            keywords[key] = value.strip()
    stub = _list_value(keywords.get("STUB", "")) if keywords.get("STUB") else []
    heading = _list_value(keywords.get("HEADING", "")) if keywords.get("HEADING") else []
    dims = [d for d in stub + heading if d]
    if not dims:
        raise DataFileError(
            rel, "has no STUB or HEADING", fix="check that the file is a PC-Axis file"
        )
    for d in dims:
        if d not in values:
            raise DataFileError(
                rel, f"has no VALUES for dimension {d!r}", fix="check the PX header"
            )
        if d in codes and len(codes[d]) != len(values[d]):
            raise DataFileError(
                rel,
                f"dimension {d!r} has {len(values[d])} VALUES but {len(codes[d])} CODES",
                fix="check the PX header",
            )
    tokens: list[str] = []
    lines: list[int] = []
    for n, line in enumerate(body.split("\n"), start=header_lines + 1):
        for tok in line.replace(";", " ").split():
            tokens.append(tok.strip('"'))
            lines.append(n)
    expected = int(np.prod([len(values[d]) for d in dims]))
    if len(tokens) != expected:
        raise DataFileError(
            rel,
            f"has {len(tokens)} data cells, but its dimensions ({' x '.join(f'{d} {len(values[d])}' for d in dims)}) make {expected}",
            row=lines[-1] if lines else header_lines + 1,
            fix="the file is truncated or its header does not match its data; download it again",
        )
    return PxTable(
        {k: " ".join(_strings(v)) or v.strip() for k, v in keywords.items()},
        dims,
        values,
        codes,
        tokens,
        np.asarray(lines, dtype=np.int64),
    )


def _find(dims: list[str], names: tuple[str, ...]) -> str | None:
    for d in dims:
        if d.lower() in names:
            return d
    return None


def _unit_of(label: str, default: str) -> str:
    """The unit a PX indicator label states: shares and rates are '%', amounts 'tkr' or 'kr', balances
    (net moves, population change, differences) 'netto (antal)', since they may be negative."""
    low = label.lower()
    if any(w in low for w in ("netto", "folkökning", "överskott", "differens")):
        return "netto (antal)"  # a balance may be negative; not a count
    if "(tkr)" in low:
        return "tkr"
    if "kr" in low.split() or "(kr)" in low or "kr per" in low or ", kr" in low:
        return "kr"
    if "gånger" in low:
        return "kvot"
    if low.startswith("andel") or "grad" in low or "deltagande" in low:
        return "%"
    if "per 100 000" in low:
        return "antal/100000"
    return default


@reader("pcaxis")
def read_pcaxis(
    path: Path,
    *,
    rel: str,
    dash: str | None = None,
    indicator_prefix: str = "PX",
    indicator_dim: str = "indikator",
    keep: dict[str, str] | None = None,
    source: str = "pcaxis",
    **_: object,
) -> pd.DataFrame:
    """Every cell of a PC-Axis table as a raw row.

    Args:
        dash: what ``-`` means in this file: ``zero`` (the value is 0) or ``unpublished`` (a
            missing-value marker, e.g. months after the vintage). Required: files differ.
        indicator_prefix: indicator ids are ``<prefix>_<code of the indicator>``, e.g.
            ``KSI_ANTARBETSLOSA`` for code ``AntArbetslösa``.
        indicator_dim: the dimension that holds the indicators.
        keep: ``{dimension: code}`` to keep only one value of a dimension (e.g. the level
            ``Grund`` of ``tabelluppgift``); the other cells are rejected with the reason.

    Places are the dimension ``kommun``/``region`` by code (``0680``; two digits are a län or
    riket: ``05`` -> ``0005``); a code that is no kommun, län or riket (unweighted averages
    such as "Plus12 (ovägt)") is rejected with its label. Periods come from ``tid`` with
    ``kvartal`` (``2024-Q1``) or ``månad`` (``2024-01``). ``source_row`` is the file line of
    the cell's token.
    """
    if dash not in DASH_MEANINGS:
        raise DataFileError(
            rel,
            f"option 'dash' is {dash!r}; the meaning of '-' differs between PX files",
            fix="set options: {dash: zero} when '-' means 0 in this file, or {dash: unpublished} when it marks values not yet published",
        )
    table = parse_px(path, rel)
    dims = table.dims
    year_d, q_d, m_d = _find(dims, YEAR_DIMS), _find(dims, QUARTER_DIMS), _find(dims, MONTH_DIMS)
    reg_d = _find(dims, REGION_DIMS)
    if year_d is None or reg_d is None or indicator_dim not in dims:
        raise DataFileError(
            rel,
            f"dimensions are {dims}; the reader needs a year ({'/'.join(YEAR_DIMS)}), a place ({'/'.join(REGION_DIMS)}) and {indicator_dim!r}",
            fix="set option indicator_dim, or use a reader for this table's layout",
        )
    # Every cell's label and code of each dimension is that dimension's value at the cell's
    # index: the text work is done once per dimension value, and the cells only index.
    sizes = [len(table.values[d]) for d in dims]
    at = dict(zip(dims, np.indices(sizes).reshape(len(sizes), -1), strict=True))
    labels = {d: [str(v) for v in table.values[d]] for d in dims}
    codes = {d: [str(v) for v in table.codes.get(d, table.values[d])] for d in dims}
    years = [y.strip() for y in labels[year_d]]
    if q_d is not None:
        q = pd.Series(codes[q_d], dtype=object).str.extract(r"([1-4])\s*$")[0]
        per_q = [
            [
                f"{y}-Q{qq}" if isinstance(qq, str) else f"{y} {lab}"
                for qq, lab in zip(q, labels[q_d], strict=True)
            ]
            for y in years
        ]
        period = _cells(_flat(per_q), at[year_d] * len(labels[q_d]) + at[q_d])
        frequency = "Q"
    elif m_d is not None:
        mon = pd.Series([lab.strip().lower() for lab in labels[m_d]], dtype=object).map(MONTHS_SV)
        mon = mon.fillna(pd.to_numeric(pd.Series(codes[m_d], dtype=object), errors="coerce"))
        ok = mon.between(1, 12).to_numpy()
        mm = mon.fillna(0).astype(int).astype(str).str.zfill(2).to_numpy()
        per_m = [
            [f"{y}-{mm[j]}" if ok[j] else f"{y} {labels[m_d][j]}" for j in range(len(mm))]
            for y in years
        ]
        period = _cells(_flat(per_m), at[year_d] * len(labels[m_d]) + at[m_d])
        frequency = "M"
    else:
        period, frequency = _cells(years, at[year_d]), "Y"
    known = set(geo_mod.geos())
    reg_codes = [c.strip() for c in codes[reg_d]]
    places = ["00" + c if re.fullmatch(r"\d{2}", c) else c.zfill(4) for c in reg_codes]
    place_ok = np.asarray([p in known for p in places], dtype=bool)
    reject_of_place = [
        None
        if ok
        else f"{label!r} (code {c!r}) is not a kommun, län or riket (an average of several kommuner); dropped on purpose"
        for ok, label, c in zip(place_ok, labels[reg_d], reg_codes, strict=True)
    ]
    reject = np.asarray(reject_of_place, dtype=object)[at[reg_d]]
    for dim, wanted in (keep or {}).items():
        if dim not in dims:
            raise DataFileError(
                rel, f"option keep names dimension {dim!r}, which the file does not have ({dims})"
            )
        other_of_value = np.asarray([c != str(wanted) for c in codes[dim]], dtype=bool)
        other = other_of_value[at[dim]] & (reject == None)  # noqa: E711
        why = np.asarray(
            [
                f"{dim} {label!r} is derived from the level, not raw data; only {wanted!r} is kept"
                for label in labels[dim]
            ],
            dtype=object,
        )
        reject[other] = why[at[dim][other]]
    tokens = np.asarray(table.tokens, dtype=object)
    value = np.array(tokens, dtype=object)
    if dash == "zero":
        value[tokens == "-"] = 0.0
    ind_codes = codes[indicator_dim]
    default_unit = table.keywords.get("UNITS", "antal")
    # One unit per indicator code: the last label of a code wins.
    units = {
        c: _unit_of(lab, default_unit)
        for c, lab in zip(ind_codes, labels[indicator_dim], strict=True)
    }
    ids = {c: local_id(indicator_prefix, c) for c in ind_codes}
    municipality = [p if ok else None for p, ok in zip(places, place_ok, strict=True)]
    return raw_frame(
        {
            "municipality": _cells(municipality, at[reg_d]),
            "municipality_name": _cells(labels[reg_d], at[reg_d]),
            "indicator": _cells([ids[c] for c in ind_codes], at[indicator_dim]),
            "period": period,
            "value": value,
            "unit": _cells([units[c] for c in ind_codes], at[indicator_dim]),
            "source_row": table.token_lines,
            "reject": reject,
        },
        gender="T",
        frequency=frequency,
        source=source,
        source_file=rel,
    )


def _flat(rows: list[list[str]]) -> list[str]:
    """A table of texts row by row, as one list."""
    return [x for row in rows for x in row]


def _cells(per_value: list[Any], at: np.ndarray) -> pd.Categorical:
    """The categorical column of the cells whose value indexes are ``at``, from one text per
    value: the same categories, in order of first appearance, as building it from the cells' texts."""
    vcodes, vuniques = pd.factorize(pd.Series(per_value, dtype=object), use_na_sentinel=True)
    cell = vcodes[at].astype("float64")
    cell[cell < 0] = np.nan
    codes, first = pd.factorize(cell, use_na_sentinel=True)
    categories = pd.Index(np.asarray(vuniques, dtype=object)[first.astype(np.int64)], dtype=object)
    return pd.Categorical.from_codes(codes, categories=categories)
