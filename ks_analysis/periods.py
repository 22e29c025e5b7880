"""Report periods: delår 1 (T1, 30 April), delår 2 (T2, 31 August) and helår (Y, 31 December)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from ks_analysis.errors import PeriodError
from ks_analysis.swedish import fmt_day_month

__all__ = [
    "Period",
    "parse_period",
    "periods_of_year",
    "current_period",
    "CUTOFF_KINDS",
    "cutoff_of",
    "kind_at_or_after",
]

_CUTOFFS = {"T1": (4, 30), "T2": (8, 31), "Y": (12, 31)}
_NAMES_SV = {"T1": "Delår 1", "T2": "Delår 2", "Y": "Helår"}
_MONTHS_EN = [calendar.month_name[m] for m in range(1, 13)]


@dataclass(frozen=True, order=True)
class Period:
    """One report period of a year, e.g. ``Period(2019, "T1")`` = delår 1 2019, cutoff 2019-04-30."""

    year: int
    kind: str  # "T1", "T2" or "Y"

    @property
    def id(self) -> str:
        return f"{self.year}-{self.kind}"

    @property
    def cutoff(self) -> dt.date:
        month, day = _CUTOFFS[self.kind]
        return dt.date(self.year, month, day)

    @property
    def months_elapsed(self) -> int:
        """Months of the year that have ended at the cutoff (4, 8 or 12)."""
        return self.cutoff.month

    @property
    def name_sv(self) -> str:
        """Swedish name for readers, e.g. 'Delår 1 2019 (per 30 april)'."""
        c = self.cutoff
        return f"{_NAMES_SV[self.kind]} {self.year} (per {fmt_day_month(c)})"

    @property
    def is_full_year(self) -> bool:
        return self.kind == "Y"

    def previous(self) -> Period | None:
        """The previous forecast of the same year (T2 -> T1, Y -> T2), or None for T1."""
        order = ["T1", "T2", "Y"]
        i = order.index(self.kind)
        return Period(self.year, order[i - 1]) if i > 0 else None

    def __str__(self) -> str:
        return self.id


_ALIASES = {
    "T1": "T1", "D1": "T1", "DELAR1": "T1", "DELÅR1": "T1", "TERTIAL1": "T1", "APR": "T1", "APRIL": "T1",
    "T2": "T2", "D2": "T2", "DELAR2": "T2", "DELÅR2": "T2", "TERTIAL2": "T2", "AUG": "T2", "AUGUST": "T2", "AUGUSTI": "T2",
    "Y": "Y", "T3": "Y", "HELAR": "Y", "HELÅR": "Y", "AR": "Y", "ÅR": "Y", "YEAR": "Y", "DEC": "Y",
}  # fmt: skip

_HELP = "use YYYY-T1 (delår 1, cutoff 30 April), YYYY-T2 (delår 2, 31 August) or YYYY-Y (helår, 31 December)"


def parse_period(text: str) -> Period:
    """Parse a period id, a friendly alias or a cutoff date into a :class:`Period`.

    Accepted: ``2019-T1``, ``2019T2``, ``2019-Y``, ``2019-delår1``, ``2019-helår`` and the cutoff
    dates themselves (``2019-04-30``). Impossible dates are refused with the reason.

    >>> parse_period("2019-T1").cutoff
    datetime.date(2019, 4, 30)
    >>> parse_period("2019-08-31").id
    '2019-T2'
    """
    raw = str(text).strip()
    if any(c.isdigit() and not c.isascii() for c in raw):
        raise PeriodError(f"period {raw!r}: write the year with the digits 0-9; {_HELP}")
    # ASCII digits only: int() would read Arabic-Indic '٢٠١٩' as 2019, a silent guess.
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw, flags=re.ASCII)
    if m:
        year, month, day = (int(g) for g in m.groups())
        _check_year(year, raw)
        if not 1 <= month <= 12:
            raise PeriodError(f"period {raw!r}: there is no month {month}; {_HELP}")
        days = calendar.monthrange(year, month)[1]
        if not 1 <= day <= days:
            hint = ""
            if month == 4:
                hint = (
                    " Delår 1's cutoff is 30 April (the decision's '31 april' does not exist): use "
                    f"{year}-04-30 or {year}-T1."
                )
            raise PeriodError(
                f"period {raw!r}: {_MONTHS_EN[month - 1]} {year} has {days} days, so day {day} does not exist.{hint}"
            )
        for kind, (cm, cd) in _CUTOFFS.items():
            if (month, day) == (cm, cd):
                return Period(year, kind)
        raise PeriodError(f"period {raw!r}: {raw} is not a report cutoff; {_HELP}")
    m = re.fullmatch(r"(\d{4})[-_ ]?([A-Za-zÅÄÖåäö]+ ?[0-9]?)", raw, flags=re.ASCII)
    if m:
        year = int(m.group(1))
        _check_year(year, raw)
        key = m.group(2).upper().replace(" ", "")
        if key in _ALIASES:
            return Period(year, _ALIASES[key])
    raise PeriodError(f"period {raw!r} is not understood; {_HELP}")


def _check_year(year: int, raw: str) -> None:
    """PeriodError for a year no report can be about (0000, 9999)."""
    if not 1900 <= year <= 2200:
        raise PeriodError(f"period {raw!r}: year {year} is outside 1900-2200; {_HELP}")


def periods_of_year(year: int) -> list[Period]:
    """The three report periods of ``year`` in order."""
    return [Period(year, k) for k in ("T1", "T2", "Y")]


def current_period(today: dt.date | None = None) -> Period:
    """The latest period whose cutoff has passed on ``today``: what a scheduled run reports."""
    today = today or dt.date.today()
    passed = [p for p in periods_of_year(today.year) if p.cutoff <= today]
    return passed[-1] if passed else Period(today.year - 1, "Y")


#: The report period kinds of a year, in cutoff order.
CUTOFF_KINDS = tuple(_CUTOFFS)


def cutoff_of(year: int, kind: str) -> dt.date:
    """The cutoff date of period ``kind`` ('T1', 'T2' or 'Y') in ``year``."""
    if kind not in _CUTOFFS:
        raise PeriodError(f"period kind {kind!r} is not one of {', '.join(_CUTOFFS)}; {_HELP}")
    return Period(year, kind).cutoff


def kind_at_or_after(date: dt.date) -> str:
    """The kind of the first report cutoff on or after ``date`` in its year (30 April counts as 'T1')."""
    for kind, (month, day) in _CUTOFFS.items():
        if (date.month, date.day) <= (month, day):
            return kind
    raise AssertionError("31 December is the last cutoff of every year")  # unreachable
