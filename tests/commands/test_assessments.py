"""Self-assessments as data: added values validated and resolved; `assessments new` pre-fills and never overwrites."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from ks_analysis.cli import main
from ks_analysis.commands.assessments import previous_assessment_period
from ks_analysis.errors import DataFileError
from ks_analysis.goals.assessments import load_assessments
from ks_analysis.periods import parse_period
from ks_analysis.report.supporting import resolve_added_values

BASE = """period: 2019-T1
goals:
  - goal: 4
    direction: positiv
    text: Bra samverkan.
    activities: [Träffar]
    author: KLK
    date: 2019-05-06
    added_values:
{added}
"""


def _load(tmp_path: Path, added: str) -> dict:
    (tmp_path / "2019-T1.yaml").write_text(BASE.format(added=added), encoding="utf-8")
    found, _ = load_assessments(tmp_path, "2019-T1", [4, 5, 7, 8])
    return found


def test_both_kinds_of_added_values_load(tmp_path: Path) -> None:
    """A described value and an indicator reference both load as added values; the indicator id is upper-cased."""
    found = _load(
        tmp_path,
        "      - {description: Besökare, value: 420, unit: personer, source: egen räkning}\n      - {indicator: lokal_webbbesok}",
    )
    assert found[4].added_values == (
        {"description": "Besökare", "value": 420, "unit": "personer", "source": "egen räkning"},
        {"indicator": "LOKAL_WEBBBESOK"},
    )


@pytest.mark.parametrize(
    ("added", "pattern"),
    [
        (
            "      - {description: Besökare, value: '4 20', unit: personer, source: egen}",
            r"2019-T1\.yaml: goal 4, field 'added_values\[1\]\.value': '4 20' is not a number",
        ),
        (
            "      - {description: Besökare, value: 4, unit: personer}",
            r"goal 4, field 'added_values\[1\]\.source': missing or empty",
        ),
        (
            "      - {value: 4, unit: personer, source: x}",
            r"goal 4, field 'added_values\[1\]\.description': missing or empty",
        ),
        (
            "      - {indicator: N03926, value: 3}",
            r"goal 4, field 'added_values\[1\]': an indicator added value takes no value",
        ),
        ("      - {indicator: ''}", r"goal 4, field 'added_values\[1\]\.indicator'"),
        ("      - just text", r"goal 4, field 'added_values\[1\]': 'just text' is not a mapping"),
    ],
)
def test_invalid_added_values_name_file_goal_and_field(
    tmp_path: Path, added: str, pattern: str
) -> None:
    """Each malformed added value is a DataFileError naming the file, the goal and the field."""
    with pytest.raises(DataFileError, match=pattern):
        _load(tmp_path, added)


def _tidy() -> pd.DataFrame:
    rows = [
        ("2019-02", "2019-02-28", 10.0, "2019-02-28"),
        ("2019-03", "2019-03-31", 12.0, "2019-03-31"),
        ("2019-04", "2019-04-30", 14.0, "2019-05-15"),
    ]
    return pd.DataFrame(
        [
            {
                "municipality": "0665",
                "indicator": "LOKAL_X",
                "gender": "T",
                "frequency": "M",
                "period": p,
                "period_end": pd.Timestamp(e),
                "value": v,
                "unit": "antal",
                "source": "lokal",
                "source_file": "lokalt/r.csv",
                "source_row": i + 2,
                "published": pd.Timestamp(pub),
            }
            for i, (p, e, v, pub) in enumerate(rows)
        ]
    )


def test_indicator_added_value_resolves_to_latest_known_at_as_of() -> None:
    """An indicator added value resolves to its latest period published by as_of, with its title."""
    [v] = resolve_added_values(
        [{"indicator": "LOKAL_X"}],
        tidy=_tidy(),
        municipality="0665",
        as_of=dt.date(2019, 4, 30),
        titles={"LOKAL_X": "Besök"},
        source_file="2019-T1.yaml",
        goal=4,
    )
    assert (v["value"], v["period"], v["title"]) == (12.0, "2019-03", "Besök")


def test_unknown_indicator_added_value_is_named() -> None:
    """An added value naming an indicator the data lacks is a DataFileError naming file, goal, field and kommun."""
    with pytest.raises(
        DataFileError,
        match=r"assessments/2019-T1\.yaml: goal 4, field 'added_values\[1\]\.indicator': 'N00000' is not in the data for 0665",
    ):
        resolve_added_values(
            [{"indicator": "N00000"}],
            tidy=_tidy(),
            municipality="0665",
            as_of=dt.date(2019, 4, 30),
            titles={},
            source_file="2019-T1.yaml",
            goal=4,
        )


def test_previous_period_chain() -> None:
    """The assessment before T2 is T1, before Y is T2, before next year's T1 is Y."""
    assert [
        previous_assessment_period(parse_period(p)).id for p in ("2019-T2", "2019-Y", "2020-T1")
    ] == ["2019-T1", "2019-T2", "2019-Y"]


def test_new_prefills_from_previous_and_never_overwrites(
    tmp_path: Path, demo_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`assessments new` copies the previous period's texts and values without dates, and refuses to overwrite an edited file."""
    folder = tmp_path / "assessments"
    assert (
        main(
            [
                "assessments",
                "new",
                "--period",
                "2019-T2",
                "--assessments",
                str(folder),
                "--from",
                str(demo_raw / "assessments"),
            ]
        )
        == 0
    )
    written = folder / "2019-T2.yaml"
    assert capsys.readouterr().out.strip() == str(written)
    found, note = load_assessments(folder, "2019-T2", [4, 5, 7, 8])
    before, _ = load_assessments(demo_raw / "assessments", "2019-T1", [4, 5, 7, 8])
    assert note is None and found[4].text == before[4].text and found[4].date is None
    assert found[4].added_values == before[4].added_values
    written.write_text(written.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    content = written.read_bytes()
    assert main(["assessments", "new", "--period", "2019-T2", "--assessments", str(folder)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert written.read_bytes() == content


def test_new_without_previous_writes_a_template(tmp_path: Path) -> None:
    """`assessments new` with no earlier file writes a template for every goal of the period."""
    assert main(["assessments", "new", "--period", "2020-T1", "--raw", str(tmp_path)]) == 0
    text = (tmp_path / "assessments" / "2020-T1.yaml").read_text(encoding="utf-8")
    assert "period: 2020-T1" in text and "goal: 8" in text and "2019-Y.yaml" not in text


def test_new_refuses_the_project_raw_folder_and_needs_a_folder(
    demo_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`assessments new` refuses a folder under data/raw and, without --raw or --assessments, asks for one."""
    assert (
        main(
            [
                "assessments",
                "new",
                "--period",
                "2019-T2",
                "--assessments",
                str(demo_raw / "assessments"),
            ]
        )
        == 2
    )
    assert "never writes under the project's data/raw" in capsys.readouterr().err
    assert main(["assessments", "new", "--period", "2019-T2"]) == 2
    assert "--assessments DIR" in capsys.readouterr().err


def _expected_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def test_assessments_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    """`assessments new` writes its YAML with the mode the umask gives."""
    assert main(["assessments", "new", "--period", "2020-T1", "--raw", str(tmp_path)]) == 0
    assert (
        stat.S_IMODE((tmp_path / "assessments" / "2020-T1.yaml").stat().st_mode) == _expected_mode()
    )


def test_new_prefills_from_the_latest_earlier_period_found_and_says_which(
    tmp_path: Path, demo_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2020-T1 with only 2019-T1 and 2019-T2 at hand: pre-filled from 2019-T2, saying 2019-Y was missing."""
    folder = tmp_path / "assessments"
    folder.mkdir()
    for p in ("2019-T1", "2019-T2"):
        shutil.copy(demo_raw / "assessments" / f"{p}.yaml", folder / f"{p}.yaml")
    (folder / "notes.yaml").write_text("not a period\n", encoding="utf-8")  # ignored
    assert main(["assessments", "new", "--period", "2020-T1", "--assessments", str(folder)]) == 0
    err = capsys.readouterr().err
    assert f"pre-filled from {folder / '2019-T2.yaml'}" in err
    assert "2019-Y.yaml, the previous period's, was not found" in err
    found, _ = load_assessments(folder, "2020-T1", [4, 5, 7, 8])
    t2, _ = load_assessments(folder, "2019-T2", [4, 5, 7, 8])
    assert found[4].text == t2[4].text and found[4].date is None


def test_new_prefills_the_steering_goals_analyses_and_lists_every_steering_goal(
    tmp_path: Path, demo_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The new file's `analyses:` holds the earlier period's analysis and actions per steering goal
    (without a date), the note says from which file, and a goal the earlier file has no analysis
    for is listed with empty fields; the result loads as the report reads it."""
    from ks_analysis.goals.assessments import load_analyses

    folder = tmp_path / "assessments"
    folder.mkdir()
    t1 = (demo_raw / "assessments" / "2019-T1.yaml").read_text(encoding="utf-8")
    head, rest = t1.split("\nanalyses:\n")
    kept = rest.split("  - goal: 6\n")[0]  # drop goal 6's analysis
    (folder / "2019-T1.yaml").write_text(head + "\nanalyses:\n" + kept, encoding="utf-8")
    assert main(["assessments", "new", "--period", "2019-T2", "--assessments", str(folder)]) == 0
    err = capsys.readouterr().err
    assert f"pre-filled from {folder / '2019-T1.yaml'}" in err
    assert "analysis and actions of 3 of 4 steering goals" in err
    before = load_analyses(folder, "2019-T1", [1, 2, 3, 6])
    found = load_analyses(folder, "2019-T2", [1, 2, 3, 6])
    assert sorted(found) == [1, 2, 3, 6]
    for gid in (1, 2, 3):
        assert (found[gid].analys, found[gid].atgarder) == (
            before[gid].analys,
            before[gid].atgarder,
        )
        assert found[gid].date is None and found[gid].analys
    assert (found[6].analys, found[6].atgarder) == ("", ())


def test_new_template_lists_the_steering_goals_with_empty_analyses(tmp_path: Path) -> None:
    """With no earlier file, every steering goal is listed under `analyses:` with empty fields."""
    from ks_analysis.goals.assessments import load_analyses

    assert main(["assessments", "new", "--period", "2020-T1", "--raw", str(tmp_path)]) == 0
    found = load_analyses(tmp_path / "assessments", "2020-T1", [1, 2, 3, 6])
    assert {g: (a.analys, a.atgarder) for g, a in found.items()} == {
        g: ("", ()) for g in (1, 2, 3, 6)
    }
