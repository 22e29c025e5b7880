"""Kommunkompassen: SKR's periodic evaluations of how the kommun is led, read from a register and validated.

Kommunkompassen scores a kommun in eight areas (0–100 points each, 800 in all) every few years.
It is a periodic evaluation, not a yearly series, so the report shows the latest evaluation per
mapped goal with its year, and the previous one where it exists; no forecast is made from it.

Register template (``<raw>/kommunkompassen/utvarderingar.csv``, UTF-8, comma or semicolon)::

    year,area,measure_point,score,comment
    2018,offentlighet_demokrati,,58,
    2018,offentlighet_demokrati,Information om politiska beslut på webben,7,

A row with an empty ``measure_point`` is the area's score (0–100); a row with a ``measure_point``
is one of the selected measure points of that area, with its score (0–100).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ks_analysis.errors import DataFileError

__all__ = [
    "AREAS",
    "Evaluation",
    "REGISTER_PATH",
    "area_id",
    "read_register",
    "latest_by_area",
    "kommunkompassen_for_goal",
    "kommunkompassen_overview",
    "MAX_AREA_SCORE",
    "MAX_TOTAL_SCORE",
]

#: The most points an area can score, and all eight together (SKR, Kommunkompassen).
MAX_AREA_SCORE = 100
MAX_TOTAL_SCORE = 800

#: The eight areas of Kommunkompassen (the 2010 version used in evaluations up to 2019): id -> Swedish title.
AREAS: dict[str, str] = {
    "offentlighet_demokrati": "Offentlighet och demokrati",
    "tillganglighet_brukarorientering": "Tillgänglighet och brukarorientering",
    "politisk_styrning": "Politisk styrning och kontroll",
    "ledarskap_delegation": "Ledarskap, ansvar och delegation",
    "resultat_effektivitet": "Resultat och effektivitet",
    "arbetsgivare": "Kommunen som arbetsgivare",
    "verksamhetsutveckling": "Verksamhetsutveckling",
    "samhallsbyggare": "Kommunen som samhällsbyggare",
}
#: Where the register lives, relative to the raw folder.
REGISTER_PATH = Path("kommunkompassen") / "utvarderingar.csv"
_REQUIRED = ("year", "area", "score")


@dataclass(frozen=True)
class Evaluation:
    """One area's score in one evaluation year, with its selected measure points."""

    year: int
    area: str
    score: float
    measure_points: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    source_row: int = 0

    @property
    def area_title(self) -> str:
        return AREAS[self.area]


def area_id(text: str) -> str | None:
    """The area id for an id, its number 1–8 or its Swedish title (case-insensitive); None if unknown.

    >>> area_id("3"), area_id("Politisk styrning och kontroll"), area_id("samhallsbyggare")
    ('politisk_styrning', 'politisk_styrning', 'samhallsbyggare')
    """
    t = str(text).strip().lower()
    ids = list(AREAS)
    if t.isdigit() and 1 <= int(t) <= len(ids):
        return ids[int(t) - 1]
    for key, title in AREAS.items():
        if t in (key, title.lower()):
            return key
    return None


def _score(path: Path, row: int, column: str, text: str) -> float:
    try:
        value = float(text.replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except ValueError:
        raise DataFileError(
            path,
            "is not a number",
            row=row,
            column=column,
            value=text,
            fix="write a score between 0 and 100",
        ) from None
    if not 0 <= value <= 100:
        raise DataFileError(
            path,
            "is outside 0–100",
            row=row,
            column=column,
            value=text,
            fix="Kommunkompassen scores each area 0–100",
        )
    return value


def read_register(raw: Path, path: Path | None = None) -> list[Evaluation]:
    """Read and validate the Kommunkompassen register; an absent register gives an empty list.

    Args:
        raw: the raw data folder (read only).
        path: the register file (default ``raw/kommunkompassen/utvarderingar.csv``).

    Returns:
        One :class:`Evaluation` per year and area, sorted by area and year.

    Raises:
        DataFileError: naming the file, the row (as seen in an editor, header = row 1), the column
            and the value, for a missing column, a year that is not a year, an unknown area, a
            score outside 0–100, an area scored twice in a year, or a measure point without an
            area score.
    """
    # Long on purpose: the checks run in the order a person reads the file, each naming row and column.
    p = Path(path) if path else Path(raw) / REGISTER_PATH
    if not p.exists():
        return []
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataFileError(
            p, "is not UTF-8 text", fix="save the file as UTF-8 (CSV UTF-8 in Excel)"
        ) from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    for col in _REQUIRED:
        if col not in columns:
            raise DataFileError(
                p,
                f"missing column {col!r}",
                row=1,
                fix="the header must be year,area,measure_point,score,comment (see docs/templates.md)",
            )
    areas: dict[tuple[int, str], float] = {}
    rows_of: dict[tuple[int, str], int] = {}
    points: dict[tuple[int, str], list[tuple[str, float]]] = {}
    this_year = dt.date.today().year
    for i, raw_row in enumerate(reader, start=2):
        row = {
            str(k).strip().lower(): (v or "").strip() for k, v in raw_row.items() if k is not None
        }
        if not any(row.values()):
            continue
        ytext = row.get("year", "")
        if not (ytext.isdigit() and 1990 <= int(ytext) <= this_year + 1):
            raise DataFileError(
                p,
                "is not an evaluation year",
                row=i,
                column="year",
                value=ytext,
                fix="write the year as YYYY, e.g. 2018",
            )
        year = int(ytext)
        area = area_id(row.get("area", ""))
        if area is None:
            raise DataFileError(
                p,
                "is not one of Kommunkompassen's eight areas",
                row=i,
                column="area",
                value=row.get("area", ""),
                fix=f"use one of {', '.join(AREAS)} (or 1–8)",
            )
        score = _score(p, i, "score", row.get("score", ""))
        point = row.get("measure_point", "")
        if point:
            points.setdefault((year, area), []).append((point, score))
            continue
        if (year, area) in areas:
            raise DataFileError(
                p,
                f"area scored twice for {year} (also row {rows_of[(year, area)]})",
                row=i,
                column="area",
                value=row.get("area", ""),
                fix="keep one area row per year",
            )
        areas[(year, area)] = score
        rows_of[(year, area)] = i
    for year, area in points:
        if (year, area) not in areas:
            raise DataFileError(
                p,
                f"measure points for {area} {year} but no area score",
                column="measure_point",
                fix="add a row with the area's score and an empty measure_point",
            )
    return sorted(
        (
            Evaluation(y, a, s, tuple(points.get((y, a), [])), rows_of[(y, a)])
            for (y, a), s in areas.items()
        ),
        key=lambda e: (list(AREAS).index(e.area), e.year),
    )


def latest_by_area(
    evaluations: list[Evaluation], up_to_year: int
) -> dict[str, tuple[Evaluation, Evaluation | None]]:
    """Per area: the latest evaluation of a year up to ``up_to_year``, and the one before it (or None)."""
    out: dict[str, tuple[Evaluation, Evaluation | None]] = {}
    for area in AREAS:
        known = sorted(
            (e for e in evaluations if e.area == area and e.year <= up_to_year),
            key=lambda e: e.year,
        )
        if known:
            out[area] = (known[-1], known[-2] if len(known) > 1 else None)
    return out


def kommunkompassen_for_goal(
    areas: tuple[str, ...] | list[str], evaluations: list[Evaluation], up_to_year: int
) -> list[dict[str, Any]]:
    """The report's ``kommunkompassen`` entries of one goal: one per mapped area.

    An area without an evaluation up to ``up_to_year`` (no register, or the area not evaluated)
    gets an entry with ``missing: True`` and ``score`` None, so it never vanishes from the report.

    Returns:
        ``[{year, area, area_title, score, previous: {year, score} | None, change, measure_points,
        missing}]``.
    """
    latest = latest_by_area(evaluations, up_to_year)
    out: list[dict[str, Any]] = []
    for area in areas:
        if area not in latest:
            out.append(
                {
                    "year": None, "area": area, "area_title": AREAS.get(area, area), "score": None,
                    "max_score": 100, "previous": None, "change": None, "measure_points": [],
                    "missing": True,
                }
            )  # fmt: skip
            continue
        now, prev = latest[area]
        out.append(
            {
                "year": now.year,
                "area": area,
                "area_title": now.area_title,
                "score": now.score,
                "max_score": 100,
                "previous": None if prev is None else {"year": prev.year, "score": prev.score},
                "change": None if prev is None else now.score - prev.score,
                "measure_points": [{"name": n, "score": s} for n, s in now.measure_points],
                "missing": False,
            }
        )
    return out


def kommunkompassen_overview(
    evaluations: list[Evaluation], up_to_year: int, goals_of_area: dict[str, list[int]]
) -> dict[str, Any]:
    """The report's one Kommunkompassen section: every area with its latest and previous
    evaluation (as :func:`kommunkompassen_for_goal`) and the goals it is followed up with, and
    the total of the latest year when all eight areas were evaluated that year.

    Returns:
        ``{up_to_year, max_area, max_total, areas: [... + goals], total: {year, score,
        previous: {year, score} | None} | None}``.
    """
    areas = kommunkompassen_for_goal(list(AREAS), evaluations, up_to_year)
    for a in areas:
        a["goals"] = list(goals_of_area.get(a["area"], []))
    by_year: dict[int, dict[str, float]] = {}
    for e in evaluations:
        if e.year <= up_to_year:
            by_year.setdefault(e.year, {})[e.area] = e.score
    full = sorted(y for y, scores in by_year.items() if len(scores) == len(AREAS))
    total = None
    if full:
        prev = full[-2] if len(full) > 1 else None
        total = {
            "year": full[-1],
            "score": sum(by_year[full[-1]].values()),
            "previous": None
            if prev is None
            else {"year": prev, "score": sum(by_year[prev].values())},
        }
    return {
        "up_to_year": up_to_year,
        "max_area": MAX_AREA_SCORE,
        "max_total": MAX_TOTAL_SCORE,
        "areas": areas,
        "total": total,
    }
