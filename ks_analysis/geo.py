"""Kommun and län codes and names: the official 290 kommuner, 21 län and riket, with tolerant name look-up."""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ks_analysis.errors import KsAnalysisError
from ks_analysis.paths import PACKAGE_DATA_DIR

__all__ = [
    "Geo",
    "geos",
    "geo",
    "lookup_code",
    "UnknownNameError",
    "lan_of",
    "kommuner_in_lan",
    "normalise_name",
]

RIKET = "0000"


@dataclass(frozen=True)
class Geo:
    """A kommun (``K``), a län (``L``) or riket (``R``) with its 4-character Kolada code."""

    code: str
    name: str
    type: str
    lan: str  # two-digit län number, '' for riket
    region_name: str  # Kolada's region title for a län, e.g. 'Region Jönköpings län'

    @property
    def lan_code(self) -> str:
        """The län's 4-character Kolada code ('0006'), or riket's for riket."""
        return "00" + self.lan if self.lan else RIKET


class UnknownNameError(KsAnalysisError):
    """A municipality name that matches no kommun or län; names the nearest matches."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        near = ", ".join(suggestions) if suggestions else "none"
        super().__init__(f"unknown kommun or län name {name!r}; nearest matches: {near}")


@lru_cache(maxsize=1)
def geos() -> dict[str, Geo]:
    """All geos by code, read once from the package's own reference file."""
    with (PACKAGE_DATA_DIR / "geo.csv").open(encoding="utf-8") as fh:
        return {r["code"]: Geo(**r) for r in csv.DictReader(fh)}


def geo(code: str) -> Geo:
    """The geo with Kolada code ``code`` (``'665'`` and ``665`` are padded to ``'0665'``)."""
    key = str(code).strip().zfill(4)
    try:
        return geos()[key]
    except KeyError:
        raise KsAnalysisError(f"unknown kommun/län code {code!r}") from None


def normalise_name(name: str) -> str:
    """Case-fold, unify dashes and spaces and NFC-normalise a place name."""
    text = unicodedata.normalize("NFC", str(name)).casefold().strip()
    text = re.sub(r"[\u2010-\u2015\-]+", "-", text)
    return re.sub(r"\s+", " ", text)


def _strip_decorations(text: str) -> list[str]:
    """Candidate keys for a name: as is, without 'kommun'/'stad'/'region'/'county', without genitive s."""
    out = [text]
    t = re.sub(r"^(region|landstinget|landsting)\s+", "", text)
    t = re.sub(r"\s+(kommun|stad|municipality|county|county council|läns landsting)$", "", t)
    out.append(t)
    if t.endswith(" län"):
        out.append(t[: -len(" län")])
    for cand in list(out):
        if cand.endswith("s") and len(cand) > 3:
            out.append(cand[:-1])
    return list(dict.fromkeys(out))


#: Official kommun names whose genitive is not the name + 's' ("Falu kommun" is Falun).
_ALIASES = {"falu": "2080"}


@lru_cache(maxsize=1)
def _index() -> dict[str, dict[str, set[str]]]:
    """Name keys per type: {'K': {'vaggeryd': {'0665'}}, 'L': {...}, 'R': {...}}."""
    idx: dict[str, dict[str, set[str]]] = {"K": {}, "L": {}, "R": {}}
    for alias, code in _ALIASES.items():
        idx["K"].setdefault(alias, set()).add(code)
    for g in geos().values():
        names = [g.name]
        if g.region_name:
            names.append(g.region_name)
        if g.type == "L":
            names.append(g.name.removesuffix(" län"))
            names.append(g.name.removesuffix(" län").removesuffix("s"))
        if g.type == "R":
            names += ["Sverige", "Sweden", "Hela landet", "Riket totalt"]
        for n in names:
            idx[g.type].setdefault(normalise_name(n), set()).add(g.code)
    return idx


def lookup_code(name: str, kind: str | None = None) -> str:
    """Kolada code for a kommun or län name, tolerant of case, genitive 's' and 'kommun'.

    Args:
        name: as written in a source, e.g. ``"Vaggeryds kommun"``, ``"Region Jönköpings län"``.
        kind: ``"K"`` kommuner only, ``"L"`` län only (``"Jönköping"`` is both), None for any,
            kommuner first.

    Raises:
        UnknownNameError: with the nearest names when nothing matches.

    >>> lookup_code("Vaggeryds")
    '0665'
    >>> lookup_code("Jönköping", kind="L")
    '0006'
    """
    types = [kind] if kind else ["K", "L", "R"]
    if kind in ("L", None):
        types = types + ["R"] if "R" not in types else types
    idx = _index()
    norm = normalise_name(name)
    if kind is None:
        # The words in the name say which kind it is: "Jönköpings län" is never the kommun.
        if re.search(r"\b(län|region|county|landsting)\b", norm):
            types = ["L", "R"]
        elif re.search(r"\b(kommun|stad|municipality)\b", norm):
            types = ["K"]
    for t in types:
        for cand in _strip_decorations(norm):
            codes = idx[t].get(cand)
            if codes and len(codes) == 1:
                return next(iter(codes))
    pool = {k: t for t in types for k in idx[t]}
    near = difflib.get_close_matches(norm, list(pool), n=3, cutoff=0.6)
    pretty = []
    for k in near:
        code = next(iter(idx[pool[k]][k]))
        pretty.append(f"{geos()[code].name} ({code})")
    raise UnknownNameError(str(name), pretty)


def lan_of(code: str) -> str:
    """The 4-character län code of a kommun (``'0665'`` -> ``'0006'``)."""
    return geo(code).lan_code


def kommuner_in_lan(lan_code: str) -> list[str]:
    """Codes of all kommuner in a län (``'0006'`` -> 13 codes)."""
    lan = str(lan_code).zfill(4)[2:]
    return sorted(g.code for g in geos().values() if g.type == "K" and g.lan == lan)
