"""The report model: the shape of report.json, declared so mypy checks the renderer against the builder.

:func:`ks_analysis.report.build.build_report` returns a :class:`Report`; the renderers in
``report/sections.py``, ``report/supporting.py`` and ``report/charts.py`` take these types. The
keys and values are the report.json contract (docs/architecture.md): change them only on purpose.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

__all__ = [
    "Report",
    "GoalEntry",
    "IndicatorRow",
    "Comparison",
    "Trend",
    "Assessment",
    "SteeringAnalysis",
    "GoalChange",
    "PastVerdict",
    "LastYearGoal",
    "LastYear",
    "IndicatorChange",
    "Provenance",
    "InputFile",
    "Parameters",
    "CatalogueInfo",
    "Summary",
    "StandOutFlag",
    "StandOutRulesInfo",
]

#: One flag of the stand-out rules (see evaluate/standout.py for its columns).
StandOutFlag = dict[str, Any]


class Comparison(TypedDict):
    """The kommun's latest known year beside its län, riket and the peer group."""

    year: int
    kommun: float | None
    lan: float | None
    lan_name: str
    riket: float | None
    peers: float | None
    peers_median: float | None
    peers_n: int
    peers_name: str


class Trend(TypedDict):
    """One arrow: the forecast (or outcome) against a reference year."""

    year: int
    reference: float
    change: float
    direction: str
    better: bool | None


class IndicatorRow(TypedDict):
    """One indicator (one gender, maybe one ort) of a goal, with its forecast and status."""

    indicator: str
    base_indicator: str
    ort: str | None
    title: str
    gender: str
    role: str
    unit: str
    direction: str
    aggregation: str
    frequency: str
    target: str
    target_type: str
    target_value: float | None
    last_value: float | None
    last_year: int | None
    known_value: float | None
    known_periods: int
    total_periods: int
    forecast: float | None
    lo80: float | None
    hi80: float | None
    lo95: float | None
    hi95: float | None
    p_met: float | None
    status: str
    status_text: str
    #: Why an indicator cannot be assessed: a code (no_data, no_history, stale_history,
    #: reference_year_unknown, no_reference, outside_life) and its Swedish reason; else None.
    reason_code: str | None
    reason: str | None
    basis: str | None
    method: str
    rung: Any
    flags: list[str]
    reference_year: int | None
    history: dict[int, float | None]
    comparison: Comparison | None
    trend: dict[str, Trend | None]
    series_break: Any
    valid_from: int | None
    valid_to: int | None
    successor: str | None
    predecessor: str | None
    summary_of_orter: NotRequired[bool]
    predecessor_history: NotRequired[dict[int, float | None]]
    predecessor_title: NotRequired[str]
    predecessor_id: NotRequired[str]
    #: 'Vad som krävs' of a target indicator judged uncertain or not met (docs/outputs.md).
    what_it_takes: NotRequired[dict[str, Any]]


class Assessment(TypedDict):
    """A supporting goal's self-assessment as the report shows it."""

    text: str
    direction: str
    direction_text: str
    activities: list[str]
    author: str
    date: str | None
    added_values: list[dict[str, Any]]


class SteeringAnalysis(TypedDict):
    """A steering goal's analysis and actions as the analyst wrote them (the period file's ``analyses:``)."""

    analys: str
    atgarder: list[str]
    author: str
    date: str | None
    source_file: str


class GoalEntry(TypedDict):
    """One goal: its indicators, status, P(met) and the reason for the status."""

    id: int
    area: str
    title: str
    kind: str
    ambition: str
    steering_documents: list[str]
    rollup: str
    indicators: list[IndicatorRow]
    status: str
    basis: str | None
    p_met: float | None
    reason: str
    status_text: str
    #: Steering goals: the counts behind the verdict (see evaluate.status.GoalVerdict).
    reason_code: NotRequired[str]
    rule_text: NotRequired[str]
    share_met: NotRequired[float | None]
    share_met_text: NotRequired[str | None]
    p_bounds: NotRequired[list[float] | None]
    #: With reason_code 'parts_unskilled': the joint-draw P taking unskilled forecasts at face
    #: value (for analysts; never printed). None otherwise.
    p_model: NotRequired[float | None]
    parts: NotRequired[dict[str, int]]
    assessment: NotRequired[Assessment | None]
    #: Steering goals: the analyst's analysis and actions (None: none written for the period), and
    #: whether the verdict needs actions that are missing.
    analysis: NotRequired[SteeringAnalysis | None]
    actions_missing: NotRequired[bool]
    #: Supporting goals with catalogue indicators (Mål 5's health KPIs): per indicator its latest
    #: values by gender, or ``missing`` when the data has none. Never forecast or judged.
    indicators_known: NotRequired[list[dict[str, Any]]]
    kommunkompassen: NotRequired[list[dict[str, Any]]]
    stands_out: NotRequired[list[StandOutFlag]]
    #: 'Vad som krävs' of a steering goal: where one indicator's outcome flips it (docs/outputs.md).
    what_it_takes: NotRequired[dict[str, Any]]


class PastVerdict(TypedDict):
    """A goal's verdict as it was (or would have been) made at an earlier cutoff."""

    status: str
    basis: str | None
    status_text: str
    p_met: float | None


class LastYearGoal(TypedDict):
    """One steering goal: last year's T1 and T2 verdicts against last year's outcome."""

    goal: int
    title: str
    t1: PastVerdict
    t2: PastVerdict
    outcome: PastVerdict
    #: Whether last year's outcome is known at this report's as_of (every target indicator decided).
    outcome_known: bool
    #: Whether the T1 / T2 verdict matched the outcome: None when either says nothing firm.
    t1_right: bool | None
    t2_right: bool | None


class LastYear(TypedDict):
    """Last year's forecasts against its outcome (rebuilt at their own cutoffs, same engine)."""

    year: int
    t1_cutoff: str
    t2_cutoff: str
    outcome_as_of: str
    goals: list[LastYearGoal]


class IndicatorChange(TypedDict):
    """One target indicator whose status or P(met) moved since the previous forecast."""

    indicator: str
    gender: str
    title: str
    from_status: str
    to_status: str
    from_text: str
    to_text: str
    from_p: float | None
    to_p: float | None
    reason: str


class GoalChange(TypedDict):
    """One goal whose status moved (or whose indicators moved) since the previous forecast."""

    goal: int
    title: str
    from_status: str
    to_status: str
    from_text: str | None
    to_text: str | None
    from_p: float | None
    to_p: float | None
    since: str
    indicators: list[IndicatorChange]


class Provenance(TypedDict):
    """Per indicator and source: the latest period known at as_of and when it was published."""

    indicator: str
    source: str
    latest_period: str
    latest_published: str
    #: "source" (the file or the manifest's vintage says so) or "rule" (a publication-lag rule).
    published_basis: str
    files: list[str]
    rows_used: int


class InputFile(TypedDict):
    """One input file with its hash (and, for raw files, its row counts)."""

    file: str
    sha256: str
    reader: NotRequired[str]
    rows_read: NotRequired[int]
    rows_kept: NotRequired[int]
    rows_rejected: NotRequired[int]
    rows_missing: NotRequired[int]
    rows_duplicate: NotRequired[int]


class Parameters(TypedDict):
    """The run's parameters as report.json records them."""

    municipality: str
    period: str
    as_of: str
    raw: str
    sources: str
    goals: str
    peer_group: list[str]


class CatalogueInfo(TypedDict):
    """The goal catalogue's name, decision, thresholds and peer group."""

    name: str
    decision: str
    thresholds: dict[str, float]
    peer_group_name: str
    peer_group: list[str]


class Summary(TypedDict):
    """Goal counts per status (and per status and basis)."""

    counts: dict[str, int]
    counts_by_basis: dict[str, int]
    n_goals: int


class StandOutRulesInfo(TypedDict):
    """The stand-out rules' settings and the peers they compared with."""

    k: float
    trend_k: float
    gap_k: float
    min_peers: int
    peers: list[str]
    peers_name: str


class Report(TypedDict):
    """The whole report of one period: the content of report.json."""

    municipality: str
    municipality_name: str
    period: str
    period_name: str
    cutoff: str
    as_of: str
    generated: str
    package_version: str
    parameters: Parameters
    inputs: list[InputFile]
    demo_data: bool
    catalogue: CatalogueInfo
    summary: Summary
    goals: list[GoalEntry]
    previous_period: str | None
    changes: list[GoalChange]
    provenance: list[Provenance]
    data_quality: dict[str, int]
    vintage: NotRequired[dict[str, Any]]
    stands_out: list[StandOutFlag]
    stands_out_rules: StandOutRulesInfo
    last_year_forecasts: NotRequired[LastYear | None]
    #: The one Kommunkompassen section: every area, its goals, and the total out of 800.
    kommunkompassen: NotRequired[dict[str, Any] | None]
