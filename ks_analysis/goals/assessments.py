"""Self-assessments of the supporting goals: one YAML file per period, validated on load."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ks_analysis._config import load_yaml, validate
from ks_analysis.errors import DataFileError

__all__ = [
    "Assessment",
    "Analysis",
    "load_assessments",
    "load_analyses",
    "DIRECTIONS_SV",
    "assessment_file",
]

#: Direction of development: file value -> Swedish text shown to readers.
DIRECTIONS_SV = {
    "positiv": "Positiv utveckling",
    "oförändrad": "Oförändrad",
    "negativ": "Negativ utveckling",
    "kan_inte_bedomas": "Kan inte bedömas",
}
_DIRECTION_ALIASES = {
    "positive": "positiv",
    "unchanged": "oförändrad",
    "oforandrad": "oförändrad",
    "negative": "negativ",
    "cannot_be_judged": "kan_inte_bedomas",
    "kan inte bedömas": "kan_inte_bedomas",
}


@dataclass(frozen=True)
class Assessment:
    """One supporting goal's self-assessment for one period."""

    goal: int
    text: str
    direction: str
    activities: tuple[str, ...]
    author: str
    date: dt.date | None
    added_values: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    source_file: str = ""

    @property
    def direction_sv(self) -> str:
        return DIRECTIONS_SV[self.direction]


def assessment_file(folder: Path, period_id: str) -> Path:
    """Where the assessments of ``period_id`` live: ``<folder>/<period>.yaml``."""
    return Path(folder) / f"{period_id}.yaml"


#: The longest assessment text: about four printed pages. The whole report must stay under 3 MB
#: to be shared by e-mail, and a text is read by politicians in a meeting, not archived.
MAX_TEXT_CHARS = 20_000
#: The longest activity line, and the most activities per goal.
MAX_ACTIVITY_CHARS = 2_000
MAX_ACTIVITIES = 50


def _check_length(path: Path, goal: object, fld: str, text: str, limit: int) -> None:
    """DataFileError naming the goal and field of a text over ``limit`` characters."""
    if len(text) > limit:
        raise _bad(
            path,
            goal,
            fld,
            f"{len(text):,} characters are more than the {limit:,} a report can show".replace(
                ",", " "
            ),
            "shorten the text (the report is shared as one file of at most 3 MB)",
        )


def _bad(path: Path, goal: object, fld: str, problem: str, fix: str) -> DataFileError:
    return DataFileError(path, f"goal {goal}, field {fld!r}: {problem}", fix=fix)


def _check_added_values(path: Path, gid: object, added: object) -> list[dict[str, Any]]:
    """Measurable added values: each ``{indicator: ID}`` or ``{description, value, unit, source}``."""
    if not isinstance(added, list):
        raise _bad(path, gid, "added_values", "must be a list", "see docs/templates.md")
    out: list[dict[str, Any]] = []
    for n, item in enumerate(added, start=1):
        fld = f"added_values[{n}]"
        if not isinstance(item, dict):
            raise _bad(
                path,
                gid,
                fld,
                f"{item!r} is not a mapping",
                "write {indicator: ID} or {description: ..., value: N, unit: ..., source: ...}",
            )
        if "indicator" in item:
            ind = item["indicator"]
            if not isinstance(ind, str) or not ind.strip():
                raise _bad(
                    path,
                    gid,
                    f"{fld}.indicator",
                    f"{ind!r} is not an indicator id",
                    "write a Kolada id such as N03926 or a local id LOKAL_...",
                )
            extra = set(item) - {"indicator", "description"}
            if extra:
                raise _bad(
                    path,
                    gid,
                    fld,
                    f"an indicator added value takes no {', '.join(sorted(extra))}",
                    "its value, unit and source come from the data",
                )
            out.append(
                {
                    "indicator": ind.strip().upper(),
                    **(
                        {"description": str(item["description"])} if item.get("description") else {}
                    ),
                }
            )
            continue
        unknown = set(item) - {"description", "value", "unit", "source"}
        if unknown:
            raise _bad(
                path,
                gid,
                fld,
                f"{', '.join(sorted(map(str, unknown)))} is not a field of an added value",
                "write description, value, unit and source (or {indicator: ID}); check the spelling",
            )
        for key in ("description", "unit", "source"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise _bad(
                    path,
                    gid,
                    f"{fld}.{key}",
                    "missing or empty",
                    f"write the {key} (or use {{indicator: ID}} for a series in the data)",
                )
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(
                path,
                gid,
                f"{fld}.value",
                f"{value!r} is not a number",
                "write a number with '.' as decimal sign, without the unit",
            )
        if not math.isfinite(value):
            raise _bad(
                path,
                gid,
                f"{fld}.value",
                f"{value!r} is not a finite number",
                "write the value measured, e.g. 'value: 12.5'",
            )
        out.append(
            {
                "description": item["description"].strip(),
                "value": value,
                "unit": item["unit"].strip(),
                "source": item["source"].strip(),
            }
        )
    return out


def _read_period_file(path: Path, period_id: str) -> dict[str, Any] | None:
    """The period file's top level, checked (None when there is no file): the one reader of the
    file for both its sections, ``goals`` (self-assessments) and ``analyses`` (steering goals)."""
    if not path.exists():
        return None
    # Safe and bounded (no alias bombs, no huge files); dates stay text and are checked below.
    # A generous file limit: a too long text is then refused below naming its goal and field.
    big = 32 * 1024 * 1024
    raw = load_yaml(path, what="self-assessment file", max_bytes=big, max_scalar=big)
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("goals", []), list)
        or not isinstance(raw.get("analyses", []), list)
        or ("goals" not in raw and "analyses" not in raw)
    ):
        raise DataFileError(
            path,
            "expected 'period:' and a 'goals:' list (self-assessments) and/or an 'analyses:' list "
            "(steering goals)",
            fix="see docs/templates.md for the assessment template",
        )
    unknown = set(raw) - {"period", "goals", "analyses"}
    if unknown:
        raise DataFileError(
            path,
            f"{', '.join(repr(k) for k in sorted(map(str, unknown)))} is not a section of a period "
            "file (it has 'period:', 'goals:' and 'analyses:')",
            fix="correct the spelling, or remove it; see docs/templates.md",
        )
    if str(raw.get("period", period_id)) != period_id:
        raise DataFileError(
            path,
            f"field 'period' is {raw.get('period')!r} but the file is for {period_id}",
            fix="correct the period or rename the file",
        )
    return raw


#: The fields of one self-assessment under ``goals:`` (what ``assessments new`` writes).
_ENTRY_FIELDS = frozenset(
    {"goal", "text", "direction", "activities", "author", "date", "added_values"}
)


def load_assessments(
    folder: Path, period_id: str, goal_ids: list[int]
) -> tuple[dict[int, Assessment], str | None]:
    """Self-assessments of a period by goal id, and a note for the reader (None when there is none:
    a missing period file is not an error, and the report words it without naming the file).

    Raises:
        DataFileError: naming the file, goal and field, for a malformed file.
    """
    # Long on purpose: the checks run in the order a person reads the file, each naming goal and field.
    path = assessment_file(folder, period_id)
    raw = _read_period_file(path, period_id)
    if raw is None:
        return {}, None
    out: dict[int, Assessment] = {}
    for entry in raw.get("goals") or []:
        if not isinstance(entry, dict):
            raise DataFileError(
                path, "every item under 'goals' must be a mapping with goal, text, direction, ..."
            )
        gid = entry.get("goal")
        if gid not in goal_ids:
            raise _bad(
                path,
                gid,
                "goal",
                f"{gid!r} is not a supporting goal of the catalogue",
                f"use one of {goal_ids}",
            )
        if gid in out:
            raise _bad(path, gid, "goal", "assessed twice", "keep one entry per goal")
        unknown = set(entry) - _ENTRY_FIELDS
        if unknown:
            raise _bad(
                path,
                gid,
                ", ".join(sorted(map(str, unknown))),
                "is not a field of a self-assessment (its value would be lost)",
                f"correct the spelling; the fields are {', '.join(sorted(_ENTRY_FIELDS))}",
            )
        text = entry.get("text")
        if text is not None and not isinstance(text, str):
            raise _bad(
                path,
                gid,
                "text",
                f"{text!r} is not a text",
                "write the assessment as text; put quotes around it if it is only a number",
            )
        if not isinstance(text, str) or not text.strip():
            raise _bad(path, gid, "text", "missing or empty", "write the assessment text")
        _check_length(path, gid, "text", text, MAX_TEXT_CHARS)
        direction = str(entry.get("direction", "")).strip().lower()
        direction = _DIRECTION_ALIASES.get(direction, direction)
        if direction not in DIRECTIONS_SV:
            raise _bad(
                path,
                gid,
                "direction",
                f"{entry.get('direction')!r} is not a direction",
                f"use one of {', '.join(DIRECTIONS_SV)}",
            )
        acts = entry.get("activities") or []
        if not isinstance(acts, list) or not all(isinstance(a, str) for a in acts):
            raise _bad(
                path,
                gid,
                "activities",
                "must be a list of texts",
                "write one '- activity' line per activity",
            )
        if len(acts) > MAX_ACTIVITIES:
            raise _bad(
                path,
                gid,
                "activities",
                f"{len(acts)} activities are more than the {MAX_ACTIVITIES} a report shows",
                "keep the main activities",
            )
        for n, act in enumerate(acts, start=1):
            _check_length(path, gid, f"activities[{n}]", act, MAX_ACTIVITY_CHARS)
        date = entry.get("date")
        if date is not None and not isinstance(date, dt.date):
            try:
                date = dt.date.fromisoformat(str(date))
            except ValueError:
                raise _bad(
                    path, gid, "date", f"{date!r} is not a date", "write YYYY-MM-DD"
                ) from None
        added = _check_added_values(path, gid, entry.get("added_values") or [])
        out[gid] = Assessment(
            goal=gid,
            text=text.strip(),
            direction=direction,
            activities=tuple(a.strip() for a in acts),
            author=str(entry.get("author", "")),
            date=date,
            added_values=tuple(added),
            source_file=path.name,
        )
    return out, None


# Analysis and actions of the steering goals -----------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """One steering goal's analysis and actions for one period, as the analyst wrote them.

    Empty texts are allowed (``assessments new`` writes them for the analyst to fill in): an empty
    ``analys`` is shown as not written, and no ``atgarder`` as actions missing where the goal needs them.
    """

    goal: int
    analys: str
    atgarder: tuple[str, ...]
    author: str
    date: dt.date | None
    source_file: str = ""


class _AnalysisEntry(BaseModel):
    """One item of the period file's ``analyses:`` list (checked field by field by pydantic)."""

    model_config = ConfigDict(extra="forbid")

    goal: StrictInt
    analys: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    atgarder: list[str] | None = Field(default=None, max_length=MAX_ACTIVITIES)
    author: str | None = None
    date: dt.date | None = None


class _AnalysesSection(BaseModel):
    # The file's other sections are checked by their own loader.
    model_config = ConfigDict(extra="ignore")

    analyses: list[_AnalysisEntry] = Field(default_factory=list)


_N = f"{MAX_TEXT_CHARS:,}".replace(",", " ")
#: Per field path (list positions as []): what is allowed and the fix, for the one message line.
_ANALYSIS_FIELDS = {
    "analyses[]": ("is not a mapping", "write '- goal: N' with 'analys:' and 'atgarder:' below"),
    "analyses[].goal": ("is not a goal number", "write the steering goal's number, e.g. 'goal: 1'"),
    "analyses[].analys": (
        f"is not allowed: the analysis is one text of at most {_N} characters",
        "write the analysis as one text (use '>-' for several lines), or shorten it",
    ),
    "analyses[].atgarder": (
        f"is not allowed: the actions are a list of at most {MAX_ACTIVITIES} texts",
        "write one '- action' line per action",
    ),
    "analyses[].atgarder[]": (
        f"is not allowed: an action is one text of at most {MAX_ACTIVITY_CHARS:,} characters".replace(
            ",", " "
        ),
        "write the action as one line of text, or shorten it",
    ),
    "analyses[].author": ("is not a text", "write who wrote the analysis, e.g. 'author: Ekonomi'"),
    "analyses[].date": ("is not a date", "write YYYY-MM-DD, e.g. 'date: 2019-05-06'"),
}


def _action_limits(path: Path, n: int, actions: list[str]) -> None:
    """An action over the length limit, named by its field path (pydantic checks the list's length)."""
    for k, act in enumerate(actions, start=1):
        if len(act) > MAX_ACTIVITY_CHARS:
            raise DataFileError(
                path,
                f"field 'analyses[{n}].atgarder[{k}]': {len(act):,} characters are more than the "
                f"{MAX_ACTIVITY_CHARS:,} a report shows".replace(",", " "),
                fix="shorten the action",
            )


def load_analyses(folder: Path, period_id: str, steering_ids: list[int]) -> dict[int, Analysis]:
    """Analysis and actions of the steering goals of a period, by goal id: the ``analyses:``
    section of the same period file as the self-assessments (``<folder>/<period>.yaml``).

    A missing file or section is no error (the report then says that no analysis was written).

    Raises:
        DataFileError: one line naming the file, the field path (``analyses[2].atgarder[1]``),
            the value and what is allowed.
    """
    path = assessment_file(folder, period_id)
    raw = _read_period_file(path, period_id)
    if raw is None:
        return {}
    section = validate(
        _AnalysesSection,
        {"analyses": raw.get("analyses") or []},
        path,
        fields=_ANALYSIS_FIELDS,
        default_fix="see docs/templates.md",
    )
    out: dict[int, Analysis] = {}
    for n, entry in enumerate(section.analyses, start=1):
        if entry.goal not in steering_ids:
            raise DataFileError(
                path,
                f"field 'analyses[{n}].goal': {entry.goal!r} is not a steering goal of the catalogue",
                fix=f"use one of {steering_ids} (supporting goals are assessed under 'goals:')",
            )
        if entry.goal in out:
            raise DataFileError(
                path,
                f"field 'analyses[{n}].goal': goal {entry.goal} has an analysis already",
                fix="keep one entry per goal",
            )
        actions = [a.strip() for a in entry.atgarder or [] if a.strip()]
        _action_limits(path, n, actions)
        out[entry.goal] = Analysis(
            goal=entry.goal,
            analys=(entry.analys or "").strip(),
            atgarder=tuple(actions),
            author=(entry.author or "").strip(),
            date=entry.date,
            source_file=path.name,
        )
    return out
