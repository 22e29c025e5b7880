"""Run parameters are parsed once, with one message and one default rule each."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from ks_analysis.errors import DataFileError, ParameterError, PeriodError
from ks_analysis.goals.catalogue import DEFAULT_CATALOGUE
from ks_analysis.params import (
    parse_as_of,
    parse_gender,
    parse_municipality,
    parse_peers,
    report_params,
)
from ks_analysis.paths import DEMO_DIR, PROJECT_ROOT
from ks_analysis.periods import Period


def test_municipality_is_strict_and_defaults_to_the_catalogues_kommun(tmp_path: Path) -> None:
    """'665' is refused everywhere; an empty value is the kommun the goal catalogue names."""
    assert parse_municipality("0680") == "0680"
    with pytest.raises(
        ParameterError, match=r"--municipality '665' is not a kommun code \(4 digits"
    ):
        parse_municipality("665")
    with pytest.raises(ParameterError, match="'0006' is not a kommun code"):
        parse_municipality("0006")  # a län, not a kommun
    assert parse_municipality("") == "0665"
    other = tmp_path / "goals.yaml"
    shutil.copy(DEFAULT_CATALOGUE, other)
    other.write_text(
        other.read_text(encoding="utf-8").replace('municipality: "0665"', 'municipality: "0680"'),
        encoding="utf-8",
    )
    assert parse_municipality(None, other) == "0680"
    assert report_params(period="2019-T1", goals=other).municipality == "0680"


@pytest.mark.parametrize("value", ["0604,abc", ["0604", "abc"], "0604, abc "])
def test_bad_peers_get_one_message_however_they_come(value: str | list[str]) -> None:
    """Text from the CLI or a notebook and a list from Python give the same message."""
    with pytest.raises(ParameterError) as exc:
        parse_peers(value)
    assert str(exc.value) == (
        "--peers: 'abc' is not a kommun code (4 digits with the leading zero, e.g. 0665 for Vaggeryd)"
    )


def test_peers_parse_to_codes_or_none() -> None:
    """Empty means the default group (None); codes keep their order."""
    assert parse_peers("") is None and parse_peers(None) is None and parse_peers([]) is None
    assert parse_peers(" 0617,0604 ") == ("0617", "0604")


def test_as_of_defaults_to_the_cutoff_and_is_checked_against_it_once() -> None:
    """No date: the period's cutoff; a date before it is refused with the cutoff named."""
    t2 = Period(2019, "T2")
    assert parse_as_of("", t2) == dt.date(2019, 8, 31)
    assert parse_as_of("", None) is None
    assert parse_as_of("2020-01-15", t2) == dt.date(2020, 1, 15)
    with pytest.raises(ParameterError, match=r"is before the cutoff of 2019-T2 \(2019-08-31\)"):
        parse_as_of("2019-05-01", t2)
    with pytest.raises(ParameterError, match="'2019-02-30' is not a date; write YYYY-MM-DD"):
        parse_as_of("2019-02-30")
    # beyond pandas' dates (2262-04-11) a vintage compared as nothing published: a stale report
    assert parse_as_of("2200-12-31", t2) == dt.date(2200, 12, 31)
    for late in ("2262-04-12", "9999-12-31"):
        with pytest.raises(ParameterError, match="is after 2200-12-31, the latest vintage"):
            parse_as_of(late, t2)


def test_gender_is_t_k_or_m() -> None:
    """Empty is totalt; anything but T, K or M is refused."""
    assert parse_gender("") == "T" and parse_gender("K") == "K"
    with pytest.raises(ParameterError, match="gender 'X'"):
        parse_gender("X")


def test_report_params_parse_the_period_once_and_keep_it() -> None:
    """The Period object itself travels; text and a Period give the same parameters."""
    per = Period(2019, "T1")
    assert report_params(period=per).period is per
    assert report_params(period="2019-T1") == report_params(period=per)
    with pytest.raises(PeriodError, match="April 2019 has 30 days"):
        report_params(period="2019-04-31")


def test_relative_paths_are_taken_from_the_base_and_missing_inputs_are_refused(
    tmp_path: Path,
) -> None:
    """A notebook passes the project folder as base, so README paths work from notebooks/."""
    p = report_params(period="2019-T1", raw="data/raw/demo", base=PROJECT_ROOT)
    assert p.raw == DEMO_DIR.resolve()
    with pytest.raises(DataFileError, match="raw data folder does not exist"):
        report_params(period="2019-T1", raw=tmp_path / "nope")
    with pytest.raises(DataFileError, match="goal catalogue does not exist"):
        report_params(period="2019-T1", goals=tmp_path / "nope.yaml")


def test_notebook_parameters_round_trip_to_the_same_params() -> None:
    """What the runner gives papermill parses back to the same ReportParams in the notebook."""
    p = report_params(period="2019-T2", as_of="2020-01-15", peers="0617,0604", municipality="0680")
    text = p.notebook_parameters()
    assert all(isinstance(v, str) for v in text.values())
    assert report_params(**text) == p
