"""Shared parsing helpers for readers: period styles, ort keys, delimiter sniffing."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_period", "ort_key", "sniff_delimiter", "MONTHS_SV"]

MONTHS_SV = {
    "januari": 1, "februari": 2, "mars": 3, "april": 4, "maj": 5, "juni": 6,
    "juli": 7, "augusti": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "okt": 10, "nov": 11, "dec": 12,
}  # fmt: skip


def normalise_period(text: object) -> tuple[str, str | None]:
    """Canonical period and frequency for the period styles sources use.

    Returns ``(period, frequency)``; for text that is no known style, ``(text, None)`` so that
    clean can reject it with the original value. Month 13 or quarter 5 are returned unchanged.

    >>> normalise_period("2020M01")
    ('2020-01', 'M')
    >>> normalise_period("2019K3")
    ('2019-Q3', 'Q')
    >>> normalise_period("201002**")
    ('2010-Q2', 'Q')
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
    m = re.fullmatch(r"(\d{4})0([1-4])", s)  # Tillväxtanalys' YYYYQQ headers
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
