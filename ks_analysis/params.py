"""Run parameters, parsed once at the edge: one parser, one message and one default rule each.

The CLI, :func:`ks_analysis.publish.report.publish_report` and the notebooks (papermill passes
text) all build a :class:`ReportParams` with :func:`report_params`; everything downstream takes
typed values and trusts them. Text that is empty means "the default".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ks_analysis import geo as geo_mod
from ks_analysis.errors import DataFileError, ParameterError
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.paths import DEMO_DIR, REPORTS_DIR
from ks_analysis.periods import Period, parse_period

__all__ = [
    "ReportParams",
    "report_params",
    "parse_municipality",
    "parse_peers",
    "parse_as_of",
    "parse_gender",
    "parse_path",
    "default_municipality",
]

PathLike = str | Path | None


@dataclass(frozen=True)
class ReportParams:
    """The validated parameters of one report run (one period)."""

    period: Period
    as_of: dt.date
    municipality: str
    peers: tuple[str, ...] | None
    raw: Path
    sources: Path | None = None
    goals: Path | None = None
    assessments: Path | None = None
    out: Path = REPORTS_DIR

    def notebook_parameters(self) -> dict[str, str]:
        """The parameters as the report notebook's text parameters (papermill passes text)."""
        return {
            "municipality": self.municipality,
            "period": self.period.id,
            "as_of": self.as_of.isoformat(),
            "raw": str(self.raw),
            "sources": str(self.sources) if self.sources else "",
            "goals": str(self.goals) if self.goals else "",
            "assessments": str(self.assessments) if self.assessments else "",
            "peers": ",".join(self.peers) if self.peers is not None else "",
        }


def _blank(value: object) -> bool:
    """Whether a parameter was left out (None or empty text)."""
    return value is None or (isinstance(value, str) and not value.strip())


def default_municipality(goals: PathLike = None) -> str:
    """The kommun the goal catalogue belongs to: the default of every ``--municipality``."""
    return load_catalogue(None if _blank(goals) else goals).municipality


def _check_kommun(code: str, what: str) -> str:
    """``code`` if it is a kommun's 4-digit Kolada code, else the one message of ``what``."""
    if (
        not re.fullmatch(r"\d{4}", code)
        or code not in geo_mod.geos()
        or geo_mod.geo(code).type != "K"
    ):
        raise ParameterError(
            f"{what} {code!r} is not a kommun code (4 digits with the leading zero, e.g. 0665 for Vaggeryd)"
        )
    return code


def parse_municipality(value: str | None, goals: PathLike = None) -> str:
    """A kommun's 4-digit code (strict: ``665`` is refused); empty = the catalogue's kommun."""
    if _blank(value):
        return default_municipality(goals)
    return _check_kommun(str(value).strip(), "--municipality")


def parse_peers(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Kommun codes of a peer group (text ``"0604,0617"`` or a list); empty = None (the default group)."""
    if _blank(value):
        return None
    items = str(value).split(",") if isinstance(value, str) else [str(v) for v in value or ()]
    codes = tuple(_check_kommun(c.strip(), "--peers:") for c in items if c.strip())
    return codes or None


#: The latest ``--as-of`` taken (the catalogue's years end in 2200 too; pandas' dates in 2262).
LATEST_AS_OF = dt.date(2200, 12, 31)


def parse_as_of(value: str | dt.date | None, period: Period | None = None) -> dt.date | None:
    """The data vintage; empty = the period's cutoff (None without a period).

    Raises:
        ParameterError: for text that is not a date, or a date before the period's cutoff.
    """
    if _blank(value):
        return period.cutoff if period is not None else None
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ParameterError(
                f"--as-of {value!r} is not a date; write YYYY-MM-DD, e.g. 2019-05-15"
            ) from None
    if day > LATEST_AS_OF:
        # pandas' dates end in 2262: a later vintage compared as nothing published (exit 3, stale)
        raise ParameterError(
            f"--as-of {day.isoformat()} is after {LATEST_AS_OF.isoformat()}, the latest vintage "
            "the package can date; leave --as-of out to use everything published"
        )
    if period is not None and day < period.cutoff:
        raise ParameterError(
            f"--as-of {day.isoformat()} is before the cutoff of {period.id} "
            f"({period.cutoff.isoformat()}); a report uses what was published by its cutoff or later"
        )
    return day


def parse_gender(value: str | None) -> str:
    """T, K or M; empty = T (totalt)."""
    if _blank(value):
        return "T"
    text = str(value).strip()
    if text not in ("T", "K", "M"):
        raise ParameterError(f"gender {text!r}: use T (totalt), K (kvinnor) or M (män)")
    return text


_PATH_WHAT = {
    "raw": "raw data folder",
    "sources": "sources manifest",
    "goals": "goal catalogue",
    "assessments": "assessments folder",
}


def parse_path(
    value: PathLike, name: str, *, must_exist: bool = True, base: Path | None = None
) -> Path | None:
    """An input path made absolute (relative to ``base``, default the working folder); empty = None.

    Raises:
        DataFileError: for an input that does not exist (when ``must_exist``).
    """
    if _blank(value):
        return None
    path = Path(str(value)).expanduser()
    path = (path if path.is_absolute() or base is None else base / path).resolve()
    if must_exist and not path.exists():
        what = _PATH_WHAT.get(name, name)
        raise DataFileError(path, f"{what} does not exist", fix=f"check the {what} path")
    return path


def report_params(
    *,
    period: str | Period,
    as_of: str | dt.date | None = None,
    municipality: str | None = None,
    peers: str | list[str] | tuple[str, ...] | None = None,
    raw: PathLike = None,
    sources: PathLike = None,
    goals: PathLike = None,
    assessments: PathLike = None,
    out: PathLike = None,
    base: Path | None = None,
) -> ReportParams:
    """The one way to turn CLI arguments or notebook text into :class:`ReportParams`.

    Relative paths are taken from ``base`` (default: the working folder; notebooks pass the
    project folder, as their own folder is ``notebooks/``).

    Raises:
        ParameterError / PeriodError: a bad value, with the parameter's one message.
        DataFileError: an input path that does not exist.
    """
    per = period if isinstance(period, Period) else parse_period(str(period))
    day = parse_as_of(as_of, per)
    assert day is not None  # a period always gives a default
    goals_p = parse_path(goals, "goals", base=base)
    return ReportParams(
        period=per,
        as_of=day,
        municipality=parse_municipality(municipality, goals_p),
        peers=parse_peers(peers),
        raw=parse_path(raw, "raw", base=base) or DEMO_DIR,
        sources=parse_path(sources, "sources", base=base),
        goals=goals_p,
        assessments=parse_path(assessments, "assessments", base=base),
        out=parse_path(out, "out", must_exist=False, base=base) or REPORTS_DIR,
    )
