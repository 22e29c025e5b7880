"""Shared parsing helpers for readers: period styles, ort keys, delimiter sniffing."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

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
]

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
    raw = "" if text is None else str(text).strip()
    s = raw.upper().rstrip("*").strip()
    if re.fullmatch(r"\d{4}(\.0)?", s):
        return s[:4], "Y"
    m = re.fullmatch(r"(\d{4})\s*[-/]?\s*(?:M)?(\d{1,2})", s)
    if m and ("M" in s or "-" in s or "/" in s):
        month = int(m.group(2))
        if 1 <= month <= 12:
            return f"{m.group(1)}-{month:02d}", "M"
        return raw, None
    m = re.fullmatch(r"(\d{4})\s*[-_ ]?\s*[QK]([1-4])", s)
    if m:
        return f"{m.group(1)}-Q{m.group(2)}", "Q"
    m = re.fullmatch(r"(\d{4})0([1-4])", s) if yyyy0q else None  # Tillväxtanalys' YYYY0Q headers
    if m:
        return f"{m.group(1)}-Q{m.group(2)}", "Q"
    return raw, None


def ort_key(name: str) -> str:
    """An upper-case ASCII key for a place name: 'Hok' -> 'HOK', 'Götafors' -> 'GOTAFORS'."""
    text = unicodedata.normalize("NFKD", str(name).strip()).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def sniff_delimiter(first_line: str) -> str:
    """';' when the header has more semicolons than commas, else ','."""
    return ";" if first_line.count(";") > first_line.count(",") else ","


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
    if cell is None:
        return None
    text = str(cell).strip().removesuffix(".0")
    if not text.isdigit():
        return None
    if len(text) <= 2:
        return "00" + text.zfill(2)
    return text.zfill(4)


_LABEL = re.compile(r"^\s*(\d{2,4})\s+(\S.*)$")


def split_region_label(label: object) -> tuple[str | None, str | None]:
    """(code, name) from a PX-Web style label with code and name in one field.

    >>> split_region_label("06 Jönköping county")
    ('0006', 'Jönköping county')
    >>> split_region_label("Vaggeryd")
    (None, 'Vaggeryd')
    """
    if label is None or str(label).strip() == "":
        return None, None
    m = _LABEL.match(str(label))
    if m:
        return region_code(m.group(1)), m.group(2).strip()
    return None, str(label).strip()


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
    for n, line in enumerate(data.split(b"\n"), start=1):
        if line.rstrip(b"\r").decode("utf-8", "replace") == text:
            return n
    return None
