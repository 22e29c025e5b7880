"""Kommun and län codes and names: the package's own list and tolerant name look-up."""

from __future__ import annotations

import pytest

from ks_analysis import geo


def test_official_list_has_290_kommuner_21_lan_and_riket() -> None:
    """The shipped reference file holds the official 290 kommuner, 21 län and riket."""
    types = [g.type for g in geo.geos().values()]
    assert (types.count("K"), types.count("L"), types.count("R")) == (290, 21, 1)
    assert geo.geo("665").name == "Vaggeryd"
    assert geo.lan_of("0665") == "0006"
    assert len(geo.kommuner_in_lan("0006")) == 13


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Vaggeryd", "0665"),
        ("VAGGERYD", "0665"),
        ("Vaggeryds", "0665"),
        ("Vaggeryds kommun", "0665"),
        ("Falu kommun", "2080"),
        ("Göteborgs stad", "1480"),
        ("Upplands-Bro", "0139"),
        ("Jönköping", "0680"),
        ("Jönköpings län", "0006"),
        ("Region Jönköpings län", "0006"),
        ("Jönköping county", "0006"),
        ("Dalarnas län", "0020"),
        ("Sweden", "0000"),
        ("Riket", "0000"),
    ],
)
def test_lookup_tolerates_case_genitive_suffixes_and_kolada_region_names(
    name: str, code: str
) -> None:
    """Names as sources write them (genitive, 'kommun', Kolada's 'Region ...', PX-Web's 'county') find the code."""
    assert geo.lookup_code(name) == code


def test_lookup_by_kind() -> None:
    """'Jönköping' is both a kommun and a län; kind decides."""
    assert geo.lookup_code("Jönköping", kind="K") == "0680"
    assert geo.lookup_code("Jönköping", kind="L") == "0006"


def test_unknown_name_names_nearest_matches() -> None:
    """A misspelt name is refused, with the nearest names and their codes."""
    with pytest.raises(
        geo.UnknownNameError,
        match=r"^unknown kommun or län name 'Vagerydd'; nearest matches: Vaggeryd \(0665\), Danderyd \(0162\)$",
    ):
        geo.lookup_code("Vagerydd")
