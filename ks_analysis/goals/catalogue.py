"""The goal catalogue: areas, goals, indicators and targets, loaded from YAML and validated."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ks_analysis import geo as geo_mod
from ks_analysis._config import load_yaml, validate
from ks_analysis.errors import CatalogueError, DataFileError
from ks_analysis.goals.kommunkompassen import AREAS as KOMMUNKOMPASSEN_AREAS
from ks_analysis.paths import PACKAGE_DATA_DIR
from ks_analysis.swedish import exact_decimals, fmt_number

__all__ = [
    "DEFAULT_CATALOGUE",
    "Target",
    "Indicator",
    "Goal",
    "Area",
    "Catalogue",
    "load_catalogue",
    "TARGET_TYPES",
    "ROLLUP_RULES",
    "NowcastSignal",
    "NOWCAST_MAPPINGS",
    "parse_nowcast",
]

DEFAULT_CATALOGUE = PACKAGE_DATA_DIR / "goals_2019.yaml"

TARGET_TYPES = {"increase", "decrease", "at_least", "at_most", "better_than"}
DIRECTIONS = {"higher_is_better", "lower_is_better"}
AGGREGATIONS = {"mean", "sum", "point", "last"}
ROLES = {"target", "signal", "context"}
KINDS = {"styrande", "stödjande"}
FREQUENCIES = {"Y", "Q", "M"}
ROLLUP_RULES = {"all_met", "majority_met", "any_met"}
#: Former roll-up rules that averaged probabilities: the mean of P(met) is not the probability of
#: anything, so they are refused with a pointer to a declared rule.
RETIRED_ROLLUP_RULES = {"mean_p", "min_p"}
REFERENCES = {"previous_year", "lan", "riket", "peer_median", "peer_mean"}
#: How an in-year signal's sub-periods map to an annual KPI's definition (docs/nowcasting.md):
#: the value at the year's end (a stock such as folkmängd 31/12), the sum of the year's flows
#: (new firms, completed dwellings), or the mean of the year's periods (an årsmedelvärde of
#: monthly counts or shares).
NOWCAST_MAPPINGS = {"year_end_stock", "sum_of_flows", "mean_of_periods"}


def _exact(x: float | None) -> str:
    """A value set in the catalogue, in Swedish and exactly as set: 50 -> '50', 2.5 -> '2,5'."""
    return fmt_number(x) if x is None else fmt_number(x, decimals=exact_decimals(x))


@dataclass(frozen=True)
class Target:
    """What an indicator should reach; ``type`` is one of :data:`TARGET_TYPES`."""

    type: str
    value: float | None = None
    reference: str = "previous_year"
    tolerance: float = 0.0
    scope: str = "total"  # per-ort registers: 'total' (sum over orter) or 'every_ort'
    note: str = ""

    def describe_sv(self, unit: str, direction: str) -> str:
        """The target in Swedish, as printed in the report."""
        tol = f" (tolerans {_exact(self.tolerance)})" if self.tolerance else ""
        if self.type == "increase":
            return f"Öka mot föregående år{tol}"
        if self.type == "decrease":
            return f"Minska mot föregående år{tol}"
        if self.type == "at_least":
            where = " på varje ort" if self.scope == "every_ort" else ""
            return f"Minst {_exact(self.value)}{_unit_after(unit)}{where}"
        if self.type == "at_most":
            return f"Högst {_exact(self.value)}{_unit_after(unit)}"
        ref = {
            "lan": "länet",
            "riket": "riket",
            "peer_median": "jämförelsegruppens median",
            "peer_mean": "jämförelsegruppens medel",
        }.get(self.reference, self.reference)
        word = "Högre" if direction == "higher_is_better" else "Lägre"
        return f"{word} än {ref}{tol}"


def _unit_after(unit: str) -> str:
    """The unit after a target value: ' %', ' per 1 000 inv'; nothing for a plain count ('antal')."""
    u = unit.strip()
    if not u or u == "antal":
        return ""
    if u.startswith("antal/"):
        return "\u00a0per " + u.removeprefix("antal/").replace("1000", "1\u00a0000")
    return "\u00a0" + u


@dataclass(frozen=True)
class NowcastSignal:
    """An annual KPI's best in-year signal and how the signal's year maps to the KPI.

    ``signal`` is the tidy indicator id of the sub-annual series; ``mapping`` one of
    :data:`NOWCAST_MAPPINGS`; ``denominator`` the KPI's denominator in words or as an indicator id
    (e.g. "befolkningen 16-64 år" for a rate per 1 000 inhabitants 16-64), ``per`` its multiplier
    (100 for a share in per cent, 1000 for per 1 000 inhabitants, 1 for a count).
    """

    signal: str
    mapping: str
    denominator: str = ""
    per: float = 1.0
    note: str = ""


@dataclass(frozen=True)
class Indicator:
    """One measure of a steering goal, with how a year is aggregated and what counts as better."""

    id: str
    title: str
    unit: str
    frequency: str
    aggregation: str
    direction: str
    role: str
    target: Target
    genders: tuple[str, ...] = ("T",)
    per_ort: bool = False
    signal: str | None = None
    valid_from: int | None = None
    valid_to: int | None = None
    successor: str | None = None
    predecessor: str | None = None
    series_break: int | None = None
    #: The value of a year is the latest observation known (e.g. "valdeltagande i senaste valet":
    #: between elections the last election's result stands); it is reported as an outcome.
    latest_known: bool = False
    nowcast: NowcastSignal | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_is_better"


@dataclass(frozen=True)
class Goal:
    """One of the decision's goals."""

    id: int
    area: str
    area_title: str
    kind: str
    title: str
    ambition: str
    steering_documents: tuple[str, ...] = ()
    rollup: str = "all_met"
    indicators: tuple[Indicator, ...] = ()
    kommunkompassen: tuple[str, ...] = ()  # Kommunkompassen area ids followed up with this goal

    @property
    def is_steering(self) -> bool:
        return self.kind == "styrande"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["indicators"] = [asdict(i) for i in self.indicators]
        return d


@dataclass(frozen=True)
class Area:
    id: str
    title: str


@dataclass(frozen=True)
class Catalogue:
    """A validated goal catalogue."""

    path: Path
    name: str
    decision: str
    municipality: str
    year: int
    areas: tuple[Area, ...]
    goals: tuple[Goal, ...]
    thresholds: dict[str, float] = field(default_factory=lambda: {"met": 0.75, "not_met": 0.25})
    peer_group_name: str = ""
    peer_group: tuple[str, ...] = ()
    mandate_start_year: int | None = None

    def goal(self, goal_id: int) -> Goal:
        for g in self.goals:
            if g.id == goal_id:
                return g
        raise KeyError(goal_id)

    def indicators(self) -> list[tuple[Goal, Indicator]]:
        """Every (goal, indicator) pair in catalogue order."""
        return [(g, i) for g in self.goals for i in g.indicators]

    def indicator(self, indicator_id: str) -> Indicator:
        for _, i in self.indicators():
            if i.id == indicator_id:
                return i
        raise KeyError(indicator_id)


_Text = Annotated[str, Field(max_length=20_000)]
_Year = Annotated[int, Field(ge=1900, le=2200)]


class _Shape(BaseModel):
    # A misspelt key ('rolup:') would otherwise be ignored and its default used without a word;
    # a NaN or infinite number (.nan, .inf, 1e400) would turn verdicts without one.
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class _TargetShape(_Shape):
    type: str | None = None
    value: float | None = None
    reference: str | None = None
    tolerance: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    scope: str = "total"
    note: _Text = ""


class _IndicatorShape(_Shape):
    id: str | None = None
    title: _Text | None = None
    unit: str = ""
    frequency: str = "Y"
    aggregation: str | None = None
    direction: str | None = None
    role: str = "target"
    target: _TargetShape | None = None
    genders: list[str] = Field(default_factory=lambda: ["T"])
    per_ort: bool = False
    #: A catalogue indicator's in-year signal: the id of another indicator, or a mapping that
    #: names the signal series and how it maps to the annual KPI (checked by the forecast stage).
    signal: str | dict[str, Any] | None = None
    valid_from: _Year | None = None
    valid_to: _Year | None = None
    successor: str | None = None
    predecessor: str | None = None
    series_break: _Year | None = None
    latest_known: bool = False
    #: The annual KPI's bridge nowcast: any shape here, checked with its own messages by
    #: :func:`parse_nowcast`.
    nowcast: Any = None


class _GoalShape(_Shape):
    id: int
    area: str | None = None
    kind: str | None = None
    title: _Text | None = None
    ambition: _Text | None = None
    steering_documents: list[str] = Field(default_factory=list)
    rollup: str = "all_met"
    indicators: list[_IndicatorShape] = Field(default_factory=list)
    kommunkompassen: list[str] = Field(default_factory=list)


class _AreaShape(_Shape):
    id: str = Field(min_length=1)
    title: _Text = Field(min_length=1)


class _ThresholdShape(_Shape):
    met: float = Field(default=0.75, allow_inf_nan=False)
    not_met: float = Field(default=0.25, allow_inf_nan=False)


class _PeerShape(_Shape):
    name: str = ""
    members: list[Any] = Field(default_factory=list)


class _CatalogueShape(_Shape):
    """The types of a goal catalogue's fields; the meaning (known ids, order) is checked after."""

    name: _Text = ""
    decision: _Text = ""
    municipality: Any = None
    year: _Year = 2019
    areas: list[_AreaShape] = Field(default_factory=list)
    goals: list[_GoalShape] = Field(default_factory=list)
    status_thresholds: _ThresholdShape | None = None
    peer_group: _PeerShape | None = None
    mandate_start_year: _Year | None = None


def _check_shape(raw: dict[str, Any], p: Path) -> None:
    """CatalogueError (one line: file, field path, value, what is allowed) for a field of the wrong type."""
    try:
        validate(
            _CatalogueShape, raw, p, default_fix="see the packaged goals_2019.yaml for the format"
        )
    except DataFileError as exc:
        raise CatalogueError(str(exc)) from None


def _fail(path: Path, where: str, problem: str) -> CatalogueError:
    return CatalogueError(f"{path}: {where}: {problem}")


def _kommun_code(value: Any, path: Path, where: str) -> str:
    """A Kolada kommun code as written in the catalogue: four digits in quotes, and a real kommun
    (a kommun, not a län: the same rule as ``--municipality`` and ``--peers``)."""
    text = value if isinstance(value, str) else None
    if text is None or not re.fullmatch(r"\d{4}", text.strip()):
        raise _fail(
            path,
            where,
            f'{value!r} is not a Kolada code; write the four digits in quotes, e.g. "0665"',
        )
    if text.strip() not in geo_mod.geos():
        raise _fail(path, where, f"{text!r} is not a kommun, län or riket code")
    if geo_mod.geo(text.strip()).type != "K":
        raise _fail(
            path, where, f'{text!r} is a län or riket, not a kommun; name a kommun, e.g. "0665"'
        )
    return text.strip()


def _req(d: dict[str, Any], key: str, path: Path, where: str) -> Any:
    if key not in d or d[key] in (None, ""):
        raise _fail(path, where, f"missing {key!r}")
    return d[key]


def _one_of(value: Any, allowed: set[str], key: str, path: Path, where: str) -> str:
    if value not in allowed:
        raise _fail(
            path, where, f"unknown {key} {value!r}; use one of {', '.join(sorted(allowed))}"
        )
    return str(value)


def _rollup(value: Any, path: Path, where: str) -> str:
    """The goal's declared rule: what must hold of its target indicators for the goal to be met."""
    if value in RETIRED_ROLLUP_RULES:
        raise _fail(
            path,
            where,
            f"rollup {value!r} is no longer supported: a mean or minimum of probabilities is not the "
            "probability that the goal is met. Declare what must hold instead: all_met (every target "
            "indicator met), majority_met (more than half met) or any_met (at least one met)",
        )
    return _one_of(value, ROLLUP_RULES, "rollup rule", path, where)


def _parse_target(raw: Any, path: Path, where: str) -> Target:
    if not isinstance(raw, dict):
        raise _fail(path, where, "missing 'target' (e.g. {type: increase})")
    ttype = _one_of(raw.get("type"), TARGET_TYPES, "target type", path, where)
    if ttype in ("at_least", "at_most") and not isinstance(raw.get("value"), int | float):
        raise _fail(path, where, f"target type {ttype!r} needs a numeric 'value'")
    reference = raw.get(
        "reference", "previous_year" if ttype in ("increase", "decrease") else "lan"
    )
    _one_of(reference, REFERENCES, "target reference", path, where)
    scope = _one_of(raw.get("scope", "total"), {"total", "every_ort"}, "target scope", path, where)
    tol = raw.get("tolerance", 0.0)
    if not isinstance(tol, int | float) or tol < 0:
        raise _fail(path, where, f"target tolerance {tol!r} must be a number >= 0")
    value = raw.get("value")
    return Target(
        ttype,
        None if value is None else float(value),
        str(reference),
        float(tol),
        scope,
        str(raw.get("note", "")),
    )


def _flag(value: Any, key: str, path: Path, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, where, f"{key} must be true or false, not {value!r}")
    return value


def _parse_indicator(raw: dict[str, Any], path: Path, goal_where: str) -> Indicator:
    iid = str(_req(raw, "id", path, goal_where)).strip().upper()
    where = f"{goal_where}, indicator {iid}"
    genders = tuple(raw.get("genders", ["T"]))
    for g in genders:
        _one_of(g, {"T", "K", "M"}, "gender", path, where)
    ind = Indicator(
        id=iid,
        title=str(_req(raw, "title", path, where)),
        unit=str(raw.get("unit", "")),
        frequency=_one_of(raw.get("frequency", "Y"), FREQUENCIES, "frequency", path, where),
        aggregation=_one_of(
            _req(raw, "aggregation", path, where), AGGREGATIONS, "aggregation", path, where
        ),
        direction=_one_of(
            _req(raw, "direction", path, where), DIRECTIONS, "direction", path, where
        ),
        role=_one_of(raw.get("role", "target"), ROLES, "role", path, where),
        target=_parse_target(raw.get("target"), path, where),
        genders=genders,
        per_ort=bool(raw.get("per_ort", False)),
        signal=raw.get("signal"),
        valid_from=raw.get("valid_from"),
        valid_to=raw.get("valid_to"),
        successor=raw.get("successor"),
        predecessor=raw.get("predecessor"),
        series_break=raw.get("series_break"),
        latest_known=_flag(raw.get("latest_known", False), "latest_known", path, where),
        nowcast=parse_nowcast(raw.get("nowcast"), path, where),
    )
    if ind.nowcast is not None and ind.frequency != "Y":
        raise DataFileError(
            path,
            f"{where}: 'nowcast' is for annual KPIs, but the frequency is {ind.frequency!r}",
            column="nowcast",
            fix="remove 'nowcast' from sub-annual indicators; they are forecast from their own periods",
        )
    if ind.frequency == "Y" and ind.aggregation not in ("point", "last"):
        raise _fail(
            path,
            where,
            f"a yearly indicator has one value a year; aggregation {ind.aggregation!r} needs monthly or quarterly data",
        )
    return ind


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate a goal catalogue (the packaged KS mål 2019 by default).

    Raises:
        CatalogueError: naming the file and the goal, for an unknown target type, a missing
            direction, a duplicate id, an unknown area and the like.
    """
    p = Path(path) if path else DEFAULT_CATALOGUE
    raw = _read_catalogue_yaml(p)
    _check_shape(raw, p)
    areas = tuple(Area(str(a["id"]), str(a["title"])) for a in raw.get("areas", []))
    area_titles = {a.id: a.title for a in areas}
    if len(area_titles) != len(areas):
        raise _fail(p, "areas", "duplicate area id")
    goals: list[Goal] = []
    seen_goals: set[int] = set()
    seen_ind: dict[str, int] = {}
    for graw in raw.get("goals", []) or []:
        goals.append(_parse_goal(graw, p, area_titles, seen_goals, seen_ind))
    _check_signals(goals, seen_ind, p)
    thresholds = _parse_thresholds(raw, p)
    peer = raw.get("peer_group", {}) or {}
    return Catalogue(
        path=p,
        name=str(raw.get("name", "")),
        decision=str(raw.get("decision", "")),
        municipality=_kommun_code(_req(raw, "municipality", p, "top level"), p, "municipality"),
        year=int(raw.get("year", 2019)),
        areas=areas,
        goals=tuple(goals),
        thresholds=thresholds,
        peer_group_name=str(peer.get("name", "")),
        peer_group=tuple(
            _kommun_code(m, p, f"peer_group.members[{i}]")
            for i, m in enumerate(peer.get("members", []) or [], start=1)
        ),
        mandate_start_year=raw.get("mandate_start_year"),
    )


def _read_catalogue_yaml(p: Path) -> dict[str, Any]:
    """The catalogue file's YAML mapping (safe, bounded load); CatalogueError for a missing file,
    bad YAML or no mapping."""
    if not p.exists():
        raise CatalogueError(f"{p}: goal catalogue not found; pass an existing file with --goals")
    try:
        raw = load_yaml(p, what="goal catalogue")
    except DataFileError as exc:
        raise CatalogueError(str(exc)) from None
    if not isinstance(raw, dict):
        raise CatalogueError(f"{p}: expected a mapping with 'areas' and 'goals'")
    return raw


def _parse_goal(
    graw: dict[str, Any],
    p: Path,
    area_titles: dict[str, str],
    seen_goals: set[int],
    seen_ind: dict[str, int],
) -> Goal:
    """One goal entry, checked; records its id in ``seen_goals`` and its indicators in ``seen_ind``."""
    gid = graw.get("id")
    where = f"goal {gid}"
    if not isinstance(gid, int):
        raise _fail(p, where, "goal id must be a whole number")
    if gid in seen_goals:
        raise _fail(p, where, "duplicate goal id")
    seen_goals.add(gid)
    area = str(_req(graw, "area", p, where))
    if area not in area_titles:
        raise _fail(p, where, f"unknown area {area!r}; areas are {', '.join(area_titles)}")
    kind = _one_of(graw.get("kind"), KINDS, "kind", p, where)
    kk = graw.get("kommunkompassen", []) or []
    if not isinstance(kk, list):
        raise _fail(p, where, "'kommunkompassen' must be a list of area ids")
    for area_id in kk:
        _one_of(area_id, set(KOMMUNKOMPASSEN_AREAS), "Kommunkompassen area", p, where)
    inds = tuple(_parse_indicator(i, p, where) for i in graw.get("indicators", []) or [])
    for ind in inds:
        if ind.id in seen_ind:
            raise _fail(
                p, where, f"duplicate indicator id {ind.id!r} (also in goal {seen_ind[ind.id]})"
            )
        seen_ind[ind.id] = gid
    if kind == "styrande" and not any(i.role == "target" for i in inds):
        raise _fail(p, where, "a steering goal needs at least one indicator with role 'target'")
    return Goal(
        id=gid,
        area=area,
        area_title=area_titles[area],
        kind=kind,
        title=str(_req(graw, "title", p, where)).strip(),
        ambition=str(_req(graw, "ambition", p, where)).strip(),
        steering_documents=tuple(graw.get("steering_documents", []) or []),
        rollup=_rollup(graw.get("rollup", "all_met"), p, where),
        indicators=inds,
        kommunkompassen=tuple(str(a) for a in kk),
    )


def _check_signals(goals: list[Goal], seen_ind: dict[str, int], p: Path) -> None:
    """CatalogueError for an indicator whose ``signal`` names no indicator of the catalogue."""
    for g in goals:
        for ind in g.indicators:
            # A mapping names an in-year series of the data, checked where it is used.
            if isinstance(ind.signal, str) and ind.signal and ind.signal not in seen_ind:
                raise _fail(
                    p,
                    f"goal {g.id}, indicator {ind.id}",
                    f"signal {ind.signal!r} is not an indicator of the catalogue",
                )


def parse_nowcast(raw: Any, path: Path, where: str) -> NowcastSignal | None:
    """An indicator's ``nowcast:`` entry, checked; None when absent.

    Raises:
        DataFileError: naming the catalogue, the indicator and the field, e.g. an unknown mapping.
    """
    if raw is None:
        return None
    fix = "write e.g. 'nowcast: {signal: KSI_BEFOLKNING, mapping: year_end_stock}' (see docs/nowcasting.md)"
    if not isinstance(raw, dict):
        raise DataFileError(
            path, f"{where}: 'nowcast' is not a mapping", column="nowcast", value=raw, fix=fix
        )
    unknown = set(raw) - {"signal", "mapping", "denominator", "per", "note"}
    if unknown:
        raise DataFileError(
            path, f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))} in 'nowcast'",
            column="nowcast", fix=fix,
        )  # fmt: skip
    signal = raw.get("signal")
    if not isinstance(signal, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]+", signal.strip()):
        raise DataFileError(
            path, f"{where}: 'nowcast.signal' must be a tidy indicator id in capitals",
            column="nowcast.signal", value=signal, fix=fix,
        )  # fmt: skip
    mapping = raw.get("mapping")
    if mapping not in NOWCAST_MAPPINGS:
        raise DataFileError(
            path, f"{where}: unknown 'nowcast.mapping'", column="nowcast.mapping", value=mapping,
            fix=f"use one of {', '.join(sorted(NOWCAST_MAPPINGS))}",
        )  # fmt: skip
    per = raw.get("per", 1)
    if isinstance(per, bool) or not isinstance(per, int | float) or per <= 0:
        raise DataFileError(
            path, f"{where}: 'nowcast.per' must be a positive number (100 for %, 1000 for per 1 000)",
            column="nowcast.per", value=per,
        )  # fmt: skip
    return NowcastSignal(
        signal=signal.strip(),
        mapping=str(mapping),
        denominator=str(raw.get("denominator", "") or ""),
        per=float(per),
        note=str(raw.get("note", "") or ""),
    )


def _parse_thresholds(raw: dict[str, Any], p: Path) -> dict[str, float]:
    """The status thresholds (``met``, ``not_met``), defaults 0.75 and 0.25, checked for order."""
    th = raw.get("status_thresholds", {}) or {}
    thresholds = {"met": float(th.get("met", 0.75)), "not_met": float(th.get("not_met", 0.25))}
    if not 0 <= thresholds["not_met"] < thresholds["met"] <= 1:
        raise _fail(p, "status_thresholds", "need 0 <= not_met < met <= 1")
    return thresholds
