"""The goal catalogue: the packaged KS mål 2019 and validation errors that name file and goal."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ks_analysis.errors import CatalogueError
from ks_analysis.goals.catalogue import DEFAULT_CATALOGUE, load_catalogue


def test_packaged_catalogue_has_the_decisions_8_goals_and_kinds() -> None:
    """The packaged catalogue has the decision's 8 goals, 4 steering and 4 supporting, 6 areas, and their documents and titles."""
    cat = load_catalogue()
    assert [g.id for g in cat.goals] == [1, 2, 3, 4, 5, 6, 7, 8]
    kinds = {g.id: g.kind for g in cat.goals}
    assert [k for k, v in kinds.items() if v == "styrande"] == [1, 2, 3, 6]
    assert [k for k, v in kinds.items() if v == "stödjande"] == [4, 5, 7, 8]
    assert len(cat.areas) == 6
    assert cat.goal(1).steering_documents == (
        "Boendeutvecklingsprogram",
        "Miljöprogram",
        "Marknadsplan",
        "ÖP",
    )
    assert cat.goal(5).title == "Vi ska bli en friskare kommun"
    assert "ungas psykiska ohälsa" in cat.goal(5).ambition


def test_steering_goals_carry_the_issues_starting_indicators() -> None:
    """The steering goals hold their starting indicators, with directions, genders, targets and the U00408 successor."""
    cat = load_catalogue()
    ids = {g.id: [i.id for i in g.indicators] for g in cat.goals}
    assert {
        "N01951",
        "N07917",
        "LOKAL_FARDIGSTALLDA_BOSTADER",
        "LOKAL_BYGGKLARA_TOMTER",
        "N07923",
    } <= set(ids[1])
    assert {"N03926", "N03920", "N31816", "AF_ARBETSLOSA"} <= set(ids[2])
    assert {"N00999", "TVA_NYSTARTADE", "N01004", "N00926"} <= set(ids[3])
    assert {
        "U00408",
        "N00669",
        "N05401",
        "LOKAL_KF_TITTARE",
        "LOKAL_WEBBBESOK",
        "LOKAL_SOCIALA_MEDIER",
    } <= set(ids[6])
    n03926 = cat.indicator("N03926")
    assert n03926.direction == "lower_is_better" and n03926.genders == ("T", "K", "M")
    housing = cat.indicator("LOKAL_FARDIGSTALLDA_BOSTADER")
    assert (housing.target.type, housing.target.value, housing.aggregation) == (
        "at_least",
        50.0,
        "sum",
    )
    nii = cat.indicator("U00408")
    assert (nii.valid_to, nii.successor) == (2020, "N00669")


def _broken(tmp_path: Path, mutate: object) -> Path:
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    mutate(data)  # type: ignore[operator]
    path = tmp_path / "goals.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_unknown_target_type_names_file_goal_and_indicator(tmp_path: Path) -> None:
    """An unknown target type is a CatalogueError naming the file, goal and indicator."""

    def mutate(d: dict) -> None:
        d["goals"][1]["indicators"][0]["target"]["type"] = "grow"

    path = _broken(tmp_path, mutate)
    with pytest.raises(
        CatalogueError, match=r"goals\.yaml: goal 2, indicator N03926: unknown target type 'grow'"
    ):
        load_catalogue(path)


def test_missing_direction_is_an_error(tmp_path: Path) -> None:
    """An indicator without a direction is a CatalogueError naming goal and indicator."""

    def mutate(d: dict) -> None:
        del d["goals"][0]["indicators"][0]["direction"]

    with pytest.raises(CatalogueError, match=r"goal 1, indicator N01951: missing 'direction'"):
        load_catalogue(_broken(tmp_path, mutate))


def test_duplicate_goal_id_is_an_error(tmp_path: Path) -> None:
    """Two goals with the same id are a CatalogueError naming the id."""

    def mutate(d: dict) -> None:
        d["goals"][2]["id"] = 2

    with pytest.raises(CatalogueError, match=r"goals\.yaml: goal 2: duplicate goal id"):
        load_catalogue(_broken(tmp_path, mutate))


def test_duplicate_indicator_id_is_an_error(tmp_path: Path) -> None:
    """An indicator id used in two goals is a CatalogueError naming both goals."""

    def mutate(d: dict) -> None:
        d["goals"][2]["indicators"][0]["id"] = "N03926"

    with pytest.raises(
        CatalogueError, match=r"goal 3: duplicate indicator id 'N03926' \(also in goal 2\)"
    ):
        load_catalogue(_broken(tmp_path, mutate))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A catalogue path that does not exist is a CatalogueError saying it was not found."""
    with pytest.raises(CatalogueError, match="goal catalogue not found"):
        load_catalogue(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (665, r"665 is not a Kolada code; write the four digits in quotes"),
        (437, r"437 is not a Kolada code"),  # YAML 1.1 reads an unquoted 0665 as octal 437
        ("665", r"'665' is not a Kolada code"),
        ("9999", r"'9999' is not a kommun, län or riket code"),
        (None, r"missing 'municipality'"),
    ],
)
def test_catalogue_kommun_code_is_strict(tmp_path: Path, value: object, problem: str) -> None:
    """The catalogue's kommun (the default of every --municipality) must be a quoted, real 4-digit code."""

    def mutate(d: dict) -> None:
        d["municipality"] = value

    with pytest.raises(CatalogueError, match=problem):
        load_catalogue(_broken(tmp_path, mutate))


def test_peer_group_members_are_strict_codes(tmp_path: Path) -> None:
    """A peer written as a number (617) is refused naming its position, not padded to "0617"."""

    def mutate(d: dict) -> None:
        d["peer_group"]["members"][1] = 617

    with pytest.raises(CatalogueError, match=r"peer_group\.members\[2\]: 617 is not a Kolada code"):
        load_catalogue(_broken(tmp_path, mutate))


def test_steering_kpis_name_their_in_year_signal_and_mapping() -> None:
    """The annual steering KPIs name their in-year signal and how it maps to the KPI (docs/nowcasting.md)."""
    cat = load_catalogue()
    nc = {i.id: i.nowcast for _, i in cat.indicators() if i.nowcast is not None}
    assert nc["N01951"].signal == "KSI_BEFOLKNING" and nc["N01951"].mapping == "year_end_stock"
    assert nc["N03920"].mapping == "mean_of_periods" and nc["N03920"].per == 100
    assert nc["N00999"].mapping == "sum_of_flows" and nc["N00999"].per == 1000
    assert "16-64" in nc["N00999"].denominator


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"signal": "KSI_BEFOLKNING", "mapping": "q4"}, "nowcast.mapping"),
        ({"signal": "ksi befolkning", "mapping": "year_end_stock"}, "nowcast.signal"),
        ({"signal": "KSI_BEFOLKNING", "mapping": "year_end_stock", "per": 0}, "nowcast.per"),
        ({"signal": "KSI_BEFOLKNING", "mapping": "year_end_stock", "lag": 3}, "nowcast"),
        ("KSI_BEFOLKNING", "nowcast"),
    ],
)
def test_a_bad_nowcast_entry_names_catalogue_indicator_and_field(
    tmp_path: Path, entry: object, field: str
) -> None:
    """A bad `nowcast:` entry is a DataFileError naming the file, the goal and indicator, and the field."""
    from ks_analysis.errors import DataFileError

    raw = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    for ind in raw["goals"][0]["indicators"]:
        if ind["id"] == "N01951":
            ind["nowcast"] = entry
    bad = tmp_path / "goals.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError) as exc:
        load_catalogue(bad)
    msg = str(exc.value)
    assert str(bad) in msg and "goal 1, indicator N01951" in msg and f"'{field}'" in msg
