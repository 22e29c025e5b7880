"""Kommunkompassen register: validation names file, row, column and value; the report shows latest and previous."""

from __future__ import annotations

from pathlib import Path

import pytest

from ks_analysis.errors import CatalogueError, DataFileError
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.goals.kommunkompassen import (
    AREAS,
    area_id,
    kommunkompassen_for_goal,
    read_register,
)

GOOD = """year,area,measure_point,score,comment
2015,offentlighet_demokrati,,52,
2018,offentlighet_demokrati,,58,
2018,offentlighet_demokrati,Medborgardialog,6,
2018,8,,63,
"""


def _raw(tmp_path: Path, body: str) -> Path:
    (tmp_path / "kommunkompassen").mkdir(parents=True, exist_ok=True)
    (tmp_path / "kommunkompassen" / "utvarderingar.csv").write_text(body, encoding="utf-8")
    return tmp_path


def test_eight_areas_and_aliases() -> None:
    """The eight areas are known by id, number and Swedish title."""
    assert len(AREAS) == 8
    assert (
        area_id("1") == "offentlighet_demokrati"
        and area_id("Kommunen som samhällsbyggare") == "samhallsbyggare"
        and area_id("nine") is None
    )


def test_a_valid_register_loads_with_measure_points(tmp_path: Path) -> None:
    """A valid Kommunkompassen register loads each area's scores per year with its measure points."""
    evals = read_register(_raw(tmp_path, GOOD))
    od = [e for e in evals if e.area == "offentlighet_demokrati"]
    assert [(e.year, e.score) for e in od] == [(2015, 52.0), (2018, 58.0)]
    assert od[1].measure_points == (("Medborgardialog", 6.0),)
    assert any(e.area == "samhallsbyggare" and e.year == 2018 for e in evals)


def test_semicolon_register_and_absent_register(tmp_path: Path) -> None:
    """A semicolon-separated register loads like a comma one; no register gives no evaluations."""
    assert read_register(tmp_path) == []
    evals = read_register(_raw(tmp_path, GOOD.replace(",", ";")))
    assert len(evals) == 3


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (
            GOOD.replace("2018,8,,63", "2018,8,,163"),
            r"utvarderingar\.csv, row 5, column 'score': '163': is outside 0–100",
        ),
        (
            GOOD.replace("2018,8,,63", "2018,8,,sex"),
            r"row 5, column 'score': 'sex': is not a number",
        ),
        (
            GOOD.replace("2018,8,,63", "2018,Ekonomi,,63"),
            r"row 5, column 'area': 'Ekonomi': is not one of Kommunkompassen's eight areas",
        ),
        (
            GOOD.replace("2015,offentlighet", "15,offentlighet"),
            r"row 2, column 'year': '15': is not an evaluation year",
        ),
        (
            GOOD + "2018,1,,40,\n",
            r"row 6, column 'area': '1': area scored twice for 2018 \(also row 3\)",
        ),
        (GOOD.replace("year,area", "år,area"), r"row 1: missing column 'year'"),
        (
            GOOD + "2016,2,Webb,5,\n",
            r"measure points for tillganglighet_brukarorientering 2016 but no area score",
        ),
    ],
)
def test_invalid_rows_are_named(tmp_path: Path, body: str, pattern: str) -> None:
    """A score out of range or not a number, an unknown area, a bad year, a repeated area, a missing column or orphan measure points names file, row and column."""
    with pytest.raises(DataFileError, match=pattern):
        read_register(_raw(tmp_path, body))


def test_goal_entries_show_latest_and_previous_known_by_the_year(tmp_path: Path) -> None:
    """A goal's entry shows the latest evaluation known by the year and the one before with the change; an unevaluated area gives none."""
    evals = read_register(_raw(tmp_path, GOOD))
    [entry] = kommunkompassen_for_goal(("offentlighet_demokrati",), evals, 2019)
    assert (entry["year"], entry["score"], entry["previous"], entry["change"]) == (
        2018,
        58.0,
        {"year": 2015, "score": 52.0},
        6.0,
    )
    [early] = kommunkompassen_for_goal(("offentlighet_demokrati",), evals, 2016)
    assert early["year"] == 2015 and early["previous"] is None
    [missing] = kommunkompassen_for_goal(("arbetsgivare",), evals, 2019)
    assert missing["missing"] is True and missing["score"] is None  # shown as "Ingen utvärdering"
    [none] = kommunkompassen_for_goal(("offentlighet_demokrati",), [], 2019)
    assert none["missing"] is True and none["area_title"]


def test_catalogue_maps_goals_to_areas_and_refuses_unknown(tmp_path: Path) -> None:
    """The catalogue maps goal 6 to a Kommunkompassen area, every area is known, and an unknown area is a CatalogueError."""
    cat = load_catalogue()
    assert cat.goal(6).kommunkompassen == ("offentlighet_demokrati",)
    assert all(a in AREAS for g in cat.goals for a in g.kommunkompassen)
    text = cat.path.read_text(encoding="utf-8").replace(
        "kommunkompassen: [offentlighet_demokrati]", "kommunkompassen: [demokrati]"
    )
    bad = tmp_path / "goals.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"goal 6: unknown Kommunkompassen area 'demokrati'"):
        load_catalogue(bad)


def test_demo_register_has_two_evaluations(demo_raw: Path) -> None:
    """The demo register holds the 2015 and 2018 evaluations."""
    years = {e.year for e in read_register(demo_raw)}
    assert years == {2015, 2018}


def test_goal_5_friskare_kommun_has_no_kommunkompassen_area() -> None:
    """Mål 5 ("Vi ska bli en friskare kommun") is about health, which no Kommunkompassen area
    covers: it is mapped to none (it was mapped to 'Kommunen som samhällsbyggare', whose measure
    point 'Samverkan med näringslivet' then showed under the health goal)."""
    cat = load_catalogue()
    assert "friskare" in cat.goal(5).title
    assert cat.goal(5).kommunkompassen == ()


def test_overview_has_every_area_its_goals_and_the_total_out_of_800() -> None:
    """The one section lists all eight areas with their goals; the total is the sum of a year
    in which all eight were evaluated (the demo: 2018 and 2015), out of 800."""
    from ks_analysis.goals.kommunkompassen import kommunkompassen_overview
    from ks_analysis.paths import DEMO_DIR

    evals = read_register(DEMO_DIR)
    rows = [
        r.split(",")
        for r in (DEMO_DIR / "kommunkompassen" / "utvarderingar.csv").read_text().splitlines()[1:]
    ]
    totals = {
        y: sum(float(r[3]) for r in rows if r[0] == str(y) and r[2] == "") for y in (2015, 2018)
    }
    kk = kommunkompassen_overview(evals, 2018, {"samhallsbyggare": [1, 2, 3]})
    assert (kk["max_area"], kk["max_total"]) == (100, 800)
    assert [a["area"] for a in kk["areas"]] == list(AREAS)
    assert next(a for a in kk["areas"] if a["area"] == "samhallsbyggare")["goals"] == [1, 2, 3]
    assert kk["total"] == {
        "year": 2018,
        "score": totals[2018],
        "previous": {"year": 2015, "score": totals[2015]},
    }
    assert kommunkompassen_overview(evals, 2016, {})["total"]["previous"] is None
    assert kommunkompassen_overview([], 2018, {})["total"] is None
