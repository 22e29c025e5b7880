"""Shared parsing helpers for readers: period styles, ort keys, delimiter sniffing."""

from __future__ import annotations

import csv
import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ks_analysis.errors import DataFileError
from ks_analysis.paths import guard_read

__all__ = [
    "normalise_period",
    "ort_key",
    "sniff_delimiter",
    "MONTHS_SV",
    "gender_code",
    "region_code",
    "split_region_label",
    "unit_from_title",
    "title_key",
    "local_id",
    "csv_record_lines",
    "csv_parse_error_line",
    "CsvText",
    "read_csv_text",
    "decode_text",
    "kommun_code",
    "swedish_decimal",
    "too_many_fields_reason",
    "MAX_FILE_BYTES",
    "MAX_LINE_BYTES",
]


def _n(x: float) -> str:
    """A count with a space between thousands, as in the package's other messages: 17 179 869 184."""
    return f"{round(x):,}".replace(",", " ")


log = logging.getLogger(__name__)

#: The largest raw text file read (the national Kolada dump's biggest CSV is about 60 MB).
MAX_FILE_BYTES = 2 * 1024**3
#: The longest line of a CSV file: one record of a statistics table is well under a kilobyte.
MAX_LINE_BYTES = 1024 * 1024

MONTHS_SV = {
    "januari": 1, "februari": 2, "mars": 3, "april": 4, "maj": 5, "juni": 6,
    "juli": 7, "augusti": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "okt": 10, "nov": 11, "dec": 12,
}  # fmt: skip


def normalise_period(text: object, *, yyyy0q: bool = False) -> tuple[str, str | None]:
    """Canonical period and frequency for the period styles sources use.

    Returns ``(period, frequency)``; for text that is no known style, ``(text, None)`` so that
    clean can reject it with the original value. Month 13 or quarter 5 are returned unchanged.
    ``yyyy0q``: read six digits ``YYYY0Q`` as a quarter, as Tillväxtanalys writes its column
    headers (``201002**``); only its readers set it, since elsewhere ``201203`` could as well be
    March 2012, and a guess would put a value in the wrong period.

    >>> normalise_period("2020M01")
    ('2020-01', 'M')
    >>> normalise_period("2019K3")
    ('2019-Q3', 'Q')
    >>> normalise_period("201002**", yyyy0q=True)
    ('2010-Q2', 'Q')
    >>> normalise_period("201203")
    ('201203', None)
    >>> normalise_period("2019-13")
    ('2019-13', None)
    """
    return _normalise_period("" if text is None else str(text), yyyy0q)


#: Readers normalise every row's period and place label; a file has few distinct ones.
_PER_ROW_CACHE = 8192


@functools.lru_cache(maxsize=_PER_ROW_CACHE)
def _normalise_period(text: str, yyyy0q: bool) -> tuple[str, str | None]:
    """:func:`normalise_period` of a label's text (kept per distinct text)."""
    raw = text.strip()
    s = raw.upper().rstrip("*").strip()
    if re.fullmatch(r"\d{4}(\.0)?", s, re.ASCII):
        return s[:4], "Y"
    m = re.fullmatch(r"(\d{4})\s*[-/]?\s*(?:M)?(\d{1,2})", s, re.ASCII)
    if m and ("M" in s or "-" in s or "/" in s):
        month = int(m.group(2))
        if 1 <= month <= 12:
            return f"{m.group(1)}-{month:02d}", "M"
        return raw, None
    m = re.fullmatch(r"(\d{4})\s*[-_ ]?\s*[QK]([1-4])", s, re.ASCII)
    if m:
        return f"{m.group(1)}-Q{m.group(2)}", "Q"
    m = (
        re.fullmatch(r"(\d{4})0([1-4])", s, re.ASCII) if yyyy0q else None
    )  # Tillväxtanalys' YYYY0Q headers
    if m:
        return f"{m.group(1)}-Q{m.group(2)}", "Q"
    return raw, None


def ort_key(name: str) -> str:
    """An upper-case ASCII key for a place name: 'Hok' -> 'HOK', 'Götafors' -> 'GOTAFORS'."""
    return _ort_key(str(name))


@functools.lru_cache(maxsize=_PER_ROW_CACHE)
def _ort_key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.strip()).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def sniff_delimiter(first_line: str) -> str:
    """The header line's delimiter: ';' (Swedish Excel), a tab, or ','; the most frequent wins.

    >>> sniff_delimiter("geo;year;n03926"), sniff_delimiter("a,b;c,d")
    (';', ',')
    """
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


@dataclass(frozen=True)
class CsvText:
    """A delimited text file as decoded: its text, the encoding found and the delimiter sniffed."""

    text: str
    encoding: str
    delimiter: str

    @property
    def decimal_comma(self) -> bool:
        """Swedish Excel's "CSV (semikolonavgränsad)" writes numbers with a decimal comma."""
        return self.delimiter == ";"


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_text(
    data: bytes, rel: str, *, fallback: str = "cp1252", declared: str | None = None
) -> tuple[str, str]:
    """(text, encoding) of a text file: UTF-8 with or without BOM, else ``fallback`` (cp1252,
    what Swedish Excel writes; SCB's PX-Web writes latin-1).

    ``declared`` (a manifest's ``encoding:`` option) is used strictly. UTF-16 and binary files,
    and files mixing UTF-8 with another encoding, are refused naming the encoding and the fix.
    """
    fix = "save the file as 'CSV UTF-8' (or CSV semikolonavgränsad), or set 'encoding:' in the manifest's options"
    le = data[1:2] == b"\x00" and data[3:4] == b"\x00"  # 'a\0,\0': UTF-16 LE without BOM
    be = data[0:1] == b"\x00" and data[2:3] == b"\x00"  # '\0a\0,': UTF-16 BE without BOM
    if data[:2] in _UTF16_BOMS or (len(data) > 3 and (le or be)):
        raise DataFileError(
            rel,
            "is UTF-16 text (Excel's 'Unicode text'), which is not read",
            fix="save it again as 'CSV UTF-8 (kommaavgränsad)' or 'CSV (semikolonavgränsad)'",
        )
    if b"\x00" in data[:4096]:
        raise DataFileError(
            rel, "is a binary file, not CSV text", fix="export the table again as CSV"
        )
    if declared:
        try:
            return data.decode(declared), declared
        except (UnicodeDecodeError, LookupError) as exc:
            start = exc.start if isinstance(exc, UnicodeDecodeError) else 0
            raise DataFileError(
                rel,
                f"is not {declared}, the encoding the manifest declares (byte {data[start]:#04x})"
                if isinstance(exc, UnicodeDecodeError)
                else f"the manifest declares the unknown encoding {declared!r}",
                row=data[:start].count(b"\n") + 1 if isinstance(exc, UnicodeDecodeError) else None,
                fix="correct 'encoding:' in the manifest's options, or save the file as UTF-8",
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        bad = exc.start
    line = data[:bad].count(b"\n") + 1
    if re.search(rb"[\xc2-\xf4][\x80-\xbf]", data[:bad]):  # valid UTF-8 before the bad byte
        raise DataFileError(
            rel,
            f"mixes encodings: UTF-8 text, then byte {data[bad]:#04x} that is not UTF-8",
            row=line,
            fix=fix,
        )
    try:
        text = data.decode(fallback)
    except UnicodeDecodeError as exc:
        raise DataFileError(
            rel,
            f"is neither UTF-8 nor {fallback} (byte {data[exc.start]:#04x})",
            row=data[: exc.start].count(b"\n") + 1,
            fix=fix,
        ) from None
    log.info("%s: not UTF-8 (byte %#04x on line %d); read as %s", rel, data[bad], line, fallback)
    return text, fallback


def _check_lines(data: bytes, rel: str) -> None:
    """DataFileError naming the first line longer than :data:`MAX_LINE_BYTES`."""
    if len(data) <= MAX_LINE_BYTES:
        return
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.concatenate([[-1], np.flatnonzero(arr == 10), [len(arr)]])
    long = np.flatnonzero(np.diff(ends) - 1 > MAX_LINE_BYTES)
    if len(long):
        raise DataFileError(
            rel,
            f"line is {_n(int(ends[long[0] + 1] - ends[long[0]] - 1))} bytes long, over the limit of "
            f"{_n(MAX_LINE_BYTES)} for one CSV record",
            row=int(long[0]) + 1,
            fix="a CSV line holds one record; check for a missing line break or a broken export",
        )


def read_raw_bytes(path: Path, rel: str, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a raw file, checked to be inside the raw root and at most ``limit`` bytes."""
    real = guard_read(path, entry=rel)
    size = real.stat().st_size
    if size > limit:
        raise DataFileError(
            rel,
            f"is {_n(size / 1e6)} MB, over the limit of {_n(limit / 1e6)} MB for one raw file",
            fix="split the file, or check that it is the file the manifest means",
        )
    with real.open("rb") as fh:
        return fh.read()


def read_csv_text(
    path: Path, rel: str, *, fallback: str = "cp1252", declared: str | None = None
) -> tuple[CsvText, bytes]:
    """A delimited text file, sniffed: encoding (UTF-8 with or without BOM, else ``fallback``),
    delimiter (``;`` of Swedish Excel, tab or ``,``) and CRLF or LF; lines over
    :data:`MAX_LINE_BYTES` and empty files are refused. Returns the decoded text and the raw bytes."""
    data = read_raw_bytes(path, rel)
    text, enc = decode_text(data, rel, fallback=fallback, declared=declared)
    if not text.strip():
        raise DataFileError(
            rel,
            "is empty",
            fix="export the data again, or remove the file from the sources manifest",
        )
    _check_lines(data, rel)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip())
    delimiter = sniff_delimiter(lines[at])
    _no_column_twice(lines[at], delimiter, rel, at + 1)
    return CsvText(text, enc, delimiter), data


def _no_column_twice(header: str, delimiter: str, rel: str, line: int) -> None:
    """Refuse a header that names a column twice (``…,value,value``): a reader would take one of
    them without a word, and the other's data would be lost."""
    try:
        names = [h.strip().lower() for h in next(csv.reader([header], delimiter=delimiter))]
    except (csv.Error, StopIteration):
        return  # the reader says what is wrong with the line
    first: dict[str, int] = {}
    for col, name in enumerate(names, start=1):
        if not name:
            continue
        if name in first:
            raise DataFileError(
                rel,
                f"the header names column {name!r} twice (columns {first[name]} and {col})",
                row=line,
                fix="rename or remove one of them, so that it is clear which one holds the data",
            )
        first[name] = col


_SV_DECIMAL = re.compile(r"[+\-\u2212]?[\d\u00a0\u202f ]*\d,\d+")


def swedish_decimal(cell: str | None) -> str | None:
    """A decimal-comma number of a ';' file in '.' form ('12,5' -> '12.5'); other text unchanged.

    >>> swedish_decimal("12,5"), swedish_decimal("1 234,5"), swedish_decimal(".."), swedish_decimal("12")
    ('12.5', '1 234.5', '..', '12')
    """
    if not isinstance(cell, str) or "," not in cell or not _SV_DECIMAL.fullmatch(cell.strip()):
        return cell
    return cell.strip().replace(",", ".")


def too_many_fields_reason(n_fields: int, n_header: int, delimiter: str) -> str:
    """The rejection reason of a record with more (or fewer) fields than the header."""
    if n_fields < n_header:
        return (
            f"the row has fewer fields than the header ({n_fields} < {n_header}); "
            "a line break inside a field, or a missing delimiter? correct the line or export the file again"
        )
    hint = (
        '; a decimal comma in a comma-separated file splits the number: quote it ("12,5"), '
        "write 12.5, or save the file as CSV (semikolonavgränsad)"
        if delimiter == ","
        else "; quote fields that hold the delimiter"
    )
    return f"the row has more fields than the header ({n_fields} > {n_header}){hint}"


def option_place(value: object, rel: str) -> str:
    """A manifest's ``municipality:`` option (one place for a whole file), checked at once: a code
    that is no kommun, län or riket would otherwise reject every row of the file one by one."""
    from ks_analysis import geo

    code = region_code(value)
    if code is None or code not in geo.geos():
        raise DataFileError(
            rel,
            f"the sources manifest's option municipality {value!r} is not a kommun, län or riket code",
            fix='correct the option in the manifest: four digits in quotes, e.g. municipality: "0665"',
        )
    return code


def kommun_code(cell: object) -> str | None:
    """A place code cell as written, made a 4-character Kolada code only where that is unambiguous.

    Four digits are kept; three digits are a kommun code whose leading zero a spreadsheet dropped
    (665 -> '0665'). Anything else (empty, '0', '00', text) is returned as written (None when
    empty), so that clean rejects it: a code is never padded to riket '0000'.

    >>> kommun_code(665.0), kommun_code("0665"), kommun_code("0"), kommun_code(" "), kommun_code("00")
    ('0665', '0665', '0', None, '00')
    """
    if cell is None or isinstance(cell, bool):
        return None if cell is None else str(cell)
    text = str(cell).strip().removesuffix(".0")
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) == 3:
        return text.zfill(4)
    return text


GENDERS = {
    "t": "T", "totalt": "T", "total": "T", "båda könen": "T", "samtliga": "T", "alla": "T",
    "k": "K", "kvinnor": "K", "kvinna": "K", "women": "K", "female": "K",
    "m": "M", "män": "M", "man": "M", "men": "M", "male": "M",
}  # fmt: skip


def gender_code(text: object) -> str:
    """T/K/M for the gender labels sources use ('totalt', 'kvinnor', 'män', 'men'); else the text.

    >>> gender_code("kvinnor"), gender_code("män"), gender_code(None)
    ('K', 'M', 'T')
    """
    if text is None or str(text).strip() == "":
        return "T"
    return GENDERS.get(str(text).strip().lower(), str(text).strip())


def region_code(cell: object) -> str | None:
    """A 4-character Kolada code from a region code cell as sources write it.

    SCB writes län and riket with two digits ('00', '06', '20'), kommuner with four ('2080');
    Tillväxtanalys stores kommun codes as numbers without the leading zero (665). Kolada's
    län codes are '00' + the län number ('0006').

    >>> region_code("06"), region_code("00"), region_code(665.0), region_code("2080")
    ('0006', '0000', '0665', '2080')
    """
    if cell is None or isinstance(cell, bool):
        return None
    text = str(cell).strip().removesuffix(".0")
    if not text.isascii() or not text.isdigit():
        return None
    if len(text) == 2:  # SCB's län and riket: '06', '00'
        return "00" + text
    return kommun_code(text)


_LABEL = re.compile(r"^\s*(\d{2,4})\s+(\S.*)$", re.ASCII)


def split_region_label(label: object) -> tuple[str | None, str | None]:
    """(code, name) from a PX-Web style label with code and name in one field.

    >>> split_region_label("06 Jönköping county")
    ('0006', 'Jönköping county')
    >>> split_region_label("Vaggeryd")
    (None, 'Vaggeryd')
    """
    return (None, None) if label is None else _split_region_label(str(label))


@functools.lru_cache(maxsize=_PER_ROW_CACHE)
def _split_region_label(label: str) -> tuple[str | None, str | None]:
    if label.strip() == "":
        return None, None
    m = _LABEL.match(label)
    if m:
        return region_code(m.group(1)), m.group(2).strip()
    return None, label.strip()


def unit_from_title(title: object) -> str:
    """The unit a Kolada KPI title states, or '' when the title does not say.

    Titles end with their unit after the last comma ("..., andel (%)", "..., antal/1000 inv").
    Changes ("Befolkningsförändring ..., andel (%)") may be negative, so they get the unit
    '% förändring', which the share checks of clean leave alone.

    >>> unit_from_title("Långtidsarbetslöshet 25-65 år, årsmedelvärde, andel (%) av bef.")
    '%'
    >>> unit_from_title("Färdigställda bostäder i flerbostadshus, nybyggnad, antal/1000inv")
    'antal/1000 inv'
    >>> unit_from_title("Invånare  totalt, antal")
    'antal'
    >>> unit_from_title("Förändring i antal invånare sen föregående år, andel (%)")
    '% förändring'
    """
    t = re.sub(r"\s+", " ", str(title or "")).strip().lower()
    if not t:
        return ""
    change = "förändring" in t
    if re.search(r"antal\s*/\s*1\s?000\s*inv", t):
        return "antal/1000 inv"
    if "kr/inv" in t:
        return "kr/inv"
    if "%" in t or "andel" in t:
        return "% förändring" if change else "%"
    if "index" in t:
        return "index"
    if re.search(r"(,|^)\s*antal\b", t) or t.endswith("antal"):
        return "antal"
    return ""


def title_key(title: object) -> str:
    """A whitespace- and case-insensitive key for a KPI title ('Invånare  totalt' = 'invånare totalt')."""
    return re.sub(r"\s+", " ", str(title or "")).strip().lower()


def local_id(prefix: str, text: object) -> str:
    """A stable local indicator id from text: ``local_id('KOLADA', 'Invånare 65+, andel (%)')`` -> 'KOLADA_INVANARE_65_ANDEL'."""
    return f"{prefix}_{ort_key(str(text))}".strip("_")


def csv_record_lines(data: bytes, n_rows: int) -> np.ndarray:
    """1-based line numbers of the ``n_rows`` data records of CSV bytes as pyarrow reads them
    (one record per line, empty lines skipped, the first non-empty line the header).

    Row numbers must be the lines a person sees in an editor, also after blank lines. Without
    blank lines (the usual case) this is 2..n_rows+1 without looking at the lines.

    >>> csv_record_lines(b"a,b\\r\\n1,2\\r\\n\\r\\n3,4\\r\\n", 2).tolist()
    [2, 4]
    """
    if b"\n\n" not in data and b"\n\r\n" not in data and data[:1] not in (b"\n", b"\r"):
        return np.arange(2, n_rows + 2, dtype=np.int64)
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(arr)]])
    length = ends - starts
    first = (
        arr[np.minimum(starts, max(len(arr) - 1, 0))]
        if len(arr)
        else np.zeros(len(starts), dtype=np.uint8)
    )
    blank = (length == 0) | ((length == 1) & (first == 13))
    lines = np.flatnonzero(~blank) + 1
    data_lines = lines[1:]
    if (
        len(data_lines) != n_rows
    ):  # records over several lines (quoted newlines): positions, not lines
        return np.arange(2, n_rows + 2, dtype=np.int64)
    return data_lines.astype(np.int64)


_PARSE_ERROR = re.compile(r"Expected (\d+) columns?, got (\d+): (.*)", re.S)


def csv_parse_error_line(data: bytes, message: str) -> int | None:
    """The 1-based line of the row a pyarrow CSV parse error ("Expected 3 columns, got 4: <row>") quotes."""
    m = _PARSE_ERROR.search(message)
    if not m:
        return None
    text = m.group(3).splitlines()[0].rstrip("\r") if m.group(3) else ""
    # pyarrow shortens a long row in its message ('N01951,Kommunal...bygdens Söd ...'); then the
    # line is the one that starts with the first piece and holds the others in order.
    pieces = [p.strip() for p in text.split("...")] if "..." in text else [text]
    for n, line in enumerate(data.split(b"\n"), start=1):
        decoded = line.rstrip(b"\r").decode("utf-8", "replace")
        if decoded == text:
            return n
        if len(pieces) > 1 and pieces[0] and decoded.startswith(pieces[0]):
            at = len(pieces[0])
            for piece in pieces[1:]:
                at = decoded.find(piece, at)
                if at < 0:
                    break
                at += len(piece)
            else:
                return n
    return None
