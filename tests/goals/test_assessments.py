"""Self-assessments: validation names file, goal and field; markup is shown as text."""

from __future__ import annotations

import datetime as dt
from html import unescape
from pathlib import Path

import pytest

from ks_analysis.errors import DataFileError
from ks_analysis.goals.assessments import load_analyses, load_assessments
from ks_analysis.report.sections import goal_section


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "2019-T1.yaml").write_text(body, encoding="utf-8")
    return tmp_path


GOOD = """period: 2019-T1
goals:
  - goal: 4
    direction: positiv
    text: Bra samverkan.
    activities: [Träffar]
    author: KLK
    date: 2019-05-06
"""


def test_a_valid_file_loads(tmp_path: Path) -> None:
    """A valid assessments file loads with its direction and activities and no note."""
    found, note = load_assessments(_write(tmp_path, GOOD), "2019-T1", [4, 5, 7, 8])
    assert note is None and found[4].direction == "positiv" and found[4].activities == ("Träffar",)


def test_missing_file_is_no_assessment_and_no_file_name_for_readers(tmp_path: Path) -> None:
    """A missing assessments file gives no assessments and no note: the report words the missing
    self-assessment itself, without exposing a file name to its readers."""
    found, note = load_assessments(tmp_path, "2019-T2", [4, 5, 7, 8])
    assert found == {} and note is None


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (
            GOOD.replace("direction: positiv", "direction: great"),
            r"2019-T1\.yaml: goal 4, field 'direction': 'great' is not a direction",
        ),
        (
            GOOD.replace("text: Bra samverkan.", "text: ''"),
            r"goal 4, field 'text': missing or empty",
        ),
        (GOOD.replace("goal: 4", "goal: 2"), r"goal 2, field 'goal': 2 is not a supporting goal"),
        (
            GOOD.replace("date: 2019-05-06", "date: 6 maj"),
            r"goal 4, field 'date': '6 maj' is not a date",
        ),
        (
            GOOD.replace("period: 2019-T1", "period: 2019-T2"),
            r"field 'period' is '2019-T2' but the file is for 2019-T1",
        ),
        # found by attacking the CLI: each of these was accepted and its content lost or wrong
        (
            GOOD.replace("    date: 2019-05-06", "    date: 2019-05-06\n    added_valeus: []"),
            r"goal 4, field 'added_valeus': is not a field of a self-assessment",
        ),
        (GOOD + "analyser: []\n", r"'analyser' is not a section of a period file"),
        (
            GOOD.replace("direction: positiv", "direction: positiv\n    direction: negativ"),
            r"2019-T1\.yaml, row 5: is refused: key 'direction' is written twice \(lines 4 and 5\)",
        ),
        (GOOD.replace("text: Bra samverkan.", "text: 12345"), r"field 'text': 12345 is not a text"),
        (
            GOOD
            + "    added_values:\n      - {description: Besök, value: .nan, unit: st, source: x}\n",
            r"field 'added_values\[1\]\.value': nan is not a finite number",
        ),
        (
            GOOD + "    added_values:\n      - {description: B, value: 1, unit: st, soruce: x}\n",
            r"soruce is not a field of an added value",
        ),
        (
            "period: 2019-T1\x01\ngoals: []\n",
            r"row 1: holds a character YAML does not allow \(U\+0001\)",
        ),
    ],
)
def test_invalid_fields_are_named(tmp_path: Path, body: str, pattern: str) -> None:
    """A bad direction, empty text, a steering goal, a bad date or a wrong period is a DataFileError naming file, goal and field."""
    with pytest.raises(DataFileError, match=pattern):
        load_assessments(_write(tmp_path, body), "2019-T1", [4, 5, 7, 8])


def test_markup_in_an_assessment_is_escaped(tmp_path: Path) -> None:
    """HTML in an assessment's text is escaped in the goal section, never rendered."""
    body = GOOD.replace("text: Bra samverkan.", "text: \"<script>alert('x')</script> <b>fet</b>\"")
    found, _ = load_assessments(_write(tmp_path, body), "2019-T1", [4])
    a = found[4]
    goal = {
        "id": 4, "title": "T", "area": "A", "kind": "stödjande", "ambition": "amb", "status": "no_forecast",
        "status_text": "Ingen prognos", "p_met": None, "steering_documents": [],
        "assessment": {"text": a.text, "direction_text": a.direction_sv, "activities": list(a.activities), "author": a.author, "date": None, "added_values": []},
    }  # fmt: skip
    html = goal_section(goal)
    assert "<script>" not in html and "<b>" not in html
    assert "<script>alert('x')</script> <b>fet</b>" in unescape(html)


# Analysis and actions of the steering goals (the period file's `analyses:` section) ----------

ANALYSES = """period: 2019-T1
analyses:
  - goal: 1
    analys: Befolkningen ökar.
    atgarder: [Ny detaljplan, '  ', Dialog med byggherrar]
    author: Ekonomi
    date: 2019-05-06
  - goal: 2
"""


def test_analyses_load_beside_the_assessments(tmp_path: Path) -> None:
    """The `analyses:` section loads per steering goal; blank actions are dropped, a bare goal is
    an empty analysis (as `assessments new` writes it); a file with only analyses has no assessments."""
    folder = _write(tmp_path, ANALYSES)
    found = load_analyses(folder, "2019-T1", [1, 2, 3, 6])
    assert found[1].analys == "Befolkningen ökar."
    assert found[1].atgarder == ("Ny detaljplan", "Dialog med byggherrar")
    assert found[1].date == dt.date(2019, 5, 6)
    assert (found[2].analys, found[2].atgarder) == ("", ())
    assert set(found) == {1, 2}
    assert load_assessments(folder, "2019-T1", [4, 5, 7, 8]) == ({}, None)


@pytest.mark.parametrize(
    ("entry", "pattern"),
    [
        (
            "  - goal: 4\n    analys: x",
            r"2019-T1\.yaml: field 'analyses\[1\]\.goal': 4 is not a steering goal.*use one of \[1, 2, 3, 6\]",
        ),
        (
            "  - goal: '1'",
            r"field 'analyses\[1\]\.goal': '1' is not a goal number; write the steering goal's number",
        ),
        (
            "  - goal: 1\n    atgarder: Ny plan",
            r"field 'analyses\[1\]\.atgarder': 'Ny plan' is not allowed: the actions are a list",
        ),
        (
            "  - goal: 1\n    atgarder: [ok, 7]",
            r"field 'analyses\[1\]\.atgarder\[2\]': 7 is not allowed: an action is one text",
        ),
        (
            "  - goal: 1\n    analys: [a, b]",
            r"field 'analyses\[1\]\.analys': a list is not allowed: the analysis is one text",
        ),
        (
            "  - goal: 1\n    date: 2019-02-30",
            r"field 'analyses\[1\]\.date': '2019-02-30' is not a date",
        ),
        (
            "  - goal: 1\n    atgärder: [x]",
            r"field 'analyses\[1\]\.atgärder': a list is not a known field; remove it or correct its spelling",
        ),
        (
            "  - goal: 1\n  - goal: 1",
            r"field 'analyses\[2\]\.goal': goal 1 has an analysis already",
        ),
        (
            "  - goal: 1\n    atgarder: ['" + "x" * 2001 + "']",
            r"field 'analyses\[1\]\.atgarder\[1\]': 2 001 characters are more than the 2 000",
        ),
    ],
)
def test_invalid_analyses_name_file_field_value_and_what_is_allowed(
    tmp_path: Path, entry: str, pattern: str
) -> None:
    """Each bad analysis is one DataFileError line with the file, the field path and the value."""
    folder = _write(tmp_path, "period: 2019-T1\nanalyses:\n" + entry + "\n")
    with pytest.raises(DataFileError, match=pattern) as info:
        load_analyses(folder, "2019-T1", [1, 2, 3, 6])
    assert "\n" not in str(info.value)
