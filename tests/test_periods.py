"""Report periods: ids, aliases, cutoffs and the impossible 31 April."""

from __future__ import annotations

import datetime as dt

import pytest

from ks_analysis.errors import PeriodError
from ks_analysis.periods import Period, current_period, parse_period, periods_of_year


def test_year_has_three_periods_with_the_decisions_cutoffs() -> None:
    """2019 has delår 1 (30 April), delår 2 (31 August) and helår (31 December)."""
    assert [(p.id, p.cutoff) for p in periods_of_year(2019)] == [
        ("2019-T1", dt.date(2019, 4, 30)),
        ("2019-T2", dt.date(2019, 8, 31)),
        ("2019-Y", dt.date(2019, 12, 31)),
    ]


@pytest.mark.parametrize(
    "text", ["2019-T1", "2019T1", "2019-t1", "2019-04-30", "2019-delår1", "2019 D1"]
)
def test_aliases_and_cutoff_dates_parse_to_delar_1(text: str) -> None:
    """Every spelling of delår 1, and its cutoff date, parses to 2019-T1."""
    assert parse_period(text) == Period(2019, "T1")


def test_the_decisions_31_april_is_refused_with_the_reason() -> None:
    """The decision writes '31 april'; the message says April has 30 days and names the cutoff."""
    with pytest.raises(PeriodError, match=r"April 2019 has 30 days.*Delår 1's cutoff is 30 April"):
        parse_period("2019-04-31")


@pytest.mark.parametrize("text", ["2019-13-01", "2019-T4", "T1", "2019-05-31", ""])
def test_other_bad_periods_are_refused(text: str) -> None:
    """An impossible date, a fourth term, a term without a year, a non-cutoff date and empty text are PeriodErrors."""
    with pytest.raises(PeriodError):
        parse_period(text)


def test_previous_forecast_of_the_same_year() -> None:
    """The period before Y is T2 and before T2 is T1; T1 has none in its year."""
    assert Period(2019, "Y").previous() == Period(2019, "T2")
    assert Period(2019, "T2").previous() == Period(2019, "T1")
    assert Period(2019, "T1").previous() is None


def test_current_period_is_the_latest_cutoff_passed() -> None:
    """The current period is the latest whose cutoff has passed, last year's Y before 30 April."""
    assert current_period(dt.date(2019, 5, 2)) == Period(2019, "T1")
    assert current_period(dt.date(2019, 4, 29)) == Period(2018, "Y")
    assert current_period(dt.date(2019, 12, 31)) == Period(2019, "Y")
