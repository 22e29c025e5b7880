"""The Swedish vocabulary: one number format, percentages, dates, status words, methods and genders."""

from __future__ import annotations

import ast
import datetime as dt
import math
from pathlib import Path

import pytest

from ks_analysis import swedish as sv
from ks_analysis.evaluate.status import GOAL_STATUSES, INDICATOR_STATUSES

NBSP = "\u00a0"
PACKAGE = Path(sv.__file__).resolve().parent


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (-3.2, "", "−3,20"),
        (3.2, "", "3,20"),
        (-45.25, "", "−45,3"),
        (7.625, "", "7,63"),
        (12.345, "%", "12,3"),
        (710300.4, "", f"710{NBSP}300"),
        (-1234567.891, "", f"−1{NBSP}234{NBSP}568"),
        (99.4, "", "99,4"),
        (100.0, "", "100"),
        (7.0, "antal", "7"),
        (7.25, "antal", "7"),
        (0.004, "", "0,00"),
        (0, "", "0,00"),
    ],
)
def test_number_format(value: float, unit: str, expected: str) -> None:
    """Decimal comma, no-break space between thousands, a real minus sign, decimals by size and unit."""
    assert sv.fmt_number(value, unit) == expected


def test_decimals_rule() -> None:
    """No decimals from 100 up or for counts, one from 10 up, else two; the size is the absolute value."""
    assert [sv.decimals_for(x) for x in (-250.0, 100.0, 99.9, 10.0, -10.0, 9.99, 0.0)] == [
        0,
        0,
        1,
        1,
        1,
        2,
        2,
    ]
    assert sv.decimals_for(3.5, "antal") == 0 and sv.decimals_for(3.5, "%") == 2


def test_explicit_decimals_win() -> None:
    """A caller may fix the decimals (e.g. error ratios always with two)."""
    assert sv.fmt_number(0.8, decimals=2) == "0,80"
    assert sv.fmt_number(-0.123, decimals=2) == "−0,12"
    assert sv.fmt_number(2.5, decimals=0) == "3"  # halves up, as Swedish reports round


@pytest.mark.parametrize("missing", [None, math.nan, math.inf, -math.inf])
def test_missing_numbers_show_a_dash(missing: float | None) -> None:
    """None, NaN and infinity are not numbers a reader should see: they show as an en dash."""
    assert sv.fmt_number(missing) == "–"
    assert sv.fmt_percent(missing) == "–"
    assert sv.fmt_signed(missing) == "–"


def test_negative_zero_has_no_sign() -> None:
    """A small negative value that rounds to zero is shown as zero, not as minus zero."""
    assert sv.fmt_number(-0.001) == "0,00"
    assert sv.fmt_number(-0.4, decimals=0) == "0"


def test_numpy_values_format_like_floats() -> None:
    """numpy scalars (as they come out of frames) format like Python floats."""
    np = pytest.importorskip("numpy")
    assert sv.fmt_number(np.float64(-3.2)) == "−3,20"
    assert sv.fmt_number(np.int64(1500)) == f"1{NBSP}500"
    assert sv.fmt_number(np.float64("nan")) == "–"


def test_rounding_is_half_up_on_the_value_as_written() -> None:
    """Swedish reports round halves up (away from zero), on the number as the source wrote it:
    2.675 (stored as 2.67499...) reads 2,68, as a reader rounding the source's 2.675 by hand gets."""
    assert sv.fmt_number(2.675) == "2,68"
    assert sv.fmt_number(7.625) == "7,63" and sv.fmt_number(-7.625) == "−7,63"
    assert sv.fmt_number(0.125, decimals=2) == "0,13" and sv.fmt_number(2.665) == "2,67"


def test_signed_changes() -> None:
    """A change carries '+' or a minus sign; one that rounds to zero carries '±'."""
    assert sv.fmt_signed(3, decimals=0) == "+3"
    assert sv.fmt_signed(-3.2) == "−3,20"
    assert sv.fmt_signed(0.2, decimals=0) == "±0"
    assert sv.fmt_signed(1500.0) == f"+1{NBSP}500"


def test_percent() -> None:
    """Probabilities and shares as whole percent with a no-break space before the sign."""
    assert sv.fmt_percent(0.853) == f"85{NBSP}%"
    assert sv.fmt_percent(0) == f"0{NBSP}%"
    assert sv.fmt_percent(1.0) == f"100{NBSP}%"


def test_dates_in_words() -> None:
    """ISO dates (text or date) read as '30 april 2019'; an empty date gives an empty text."""
    assert sv.fmt_date("2019-04-30") == "30 april 2019"
    assert sv.fmt_date("2019-08-31T12:00:00") == "31 augusti 2019"
    assert sv.fmt_date(dt.date(2020, 12, 31)) == "31 december 2020"
    assert sv.fmt_date(None) == "" and sv.fmt_date("") == ""
    assert sv.fmt_day_month(dt.date(2019, 1, 5)) == "5 januari"
    assert len(sv.MONTHS) == 12 and sv.MONTHS[4] == "maj"


def test_typography_matches_cldr() -> None:
    """Our separators and minus sign are those of CLDR's Swedish locale (babel's copy of it)."""
    babel = pytest.importorskip("babel")
    symbols = babel.Locale.parse("sv_SE").number_symbols["latn"]
    assert (
        symbols["decimal"],
        symbols["group"],
        symbols["minusSign"],
    ) == (sv.DECIMAL, sv.GROUP, sv.MINUS)


def _emitted_status_codes() -> set[str]:
    """Status codes set in the judging and report code: ``status="..."`` and the judges' literal returns."""
    codes: set[str] = set()
    judges = {"indicator_status", "rollup"}
    for rel in ("evaluate/status.py", "report/build.py", "report/goals.py"):
        tree = ast.parse((PACKAGE / rel).read_text(encoding="utf-8"))
        values = [
            n.value for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg == "status"
        ]
        for n in ast.walk(tree):  # g["status"] = "a" if ... else "b"
            if isinstance(n, ast.Assign) and any(
                isinstance(t, ast.Subscript)
                and isinstance(t.slice, ast.Constant)
                and t.slice.value == "status"
                for t in n.targets
            ):
                branches = [n.value]
                while branches:
                    b = branches.pop()
                    if isinstance(b, ast.IfExp):
                        branches += [b.body, b.orelse]
                    else:
                        values.append(b)
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.name in judges:
                for node in ast.walk(fn):
                    if isinstance(node, ast.Return) and node.value is not None:
                        v = node.value
                        values.append(v.elts[0] if isinstance(v, ast.Tuple) else v)
        for value in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                codes.add(value.value)
    return codes


def test_every_emitted_status_has_words_symbol_and_class() -> None:
    """Every status code the package sets has Swedish words, a symbol and a CSS class."""
    emitted = _emitted_status_codes()
    assert {"met", "not_assessable", "no_forecast"} <= emitted  # the scan finds codes at all
    for code in emitted | set(GOAL_STATUSES):
        assert code in sv.STATUS_SYMBOL and code in sv.STATUS_CLASS and code in sv.STATUS_ORDER
        for basis in ("forecast", "outcome", None):
            assert sv.status_text(code, basis) != code, (code, basis)
        assert code in sv.STATUS_COUNT_SV["forecast"]
    assert set(INDICATOR_STATUSES) < set(GOAL_STATUSES) and "partly_met" not in INDICATOR_STATUSES
    for code in INDICATOR_STATUSES:
        for basis in ("forecast", "outcome", None):
            words = sv.status_text(code, basis, indicator=True)
            assert words in sv.INDICATOR_STATUS_SV.values() and "delvis" not in words


def test_forecast_and_outcome_read_differently() -> None:
    """A forecast says 'Bedöms ...'; an outcome states the result; the others ignore the basis."""
    assert sv.status_text("met", "forecast") == "Bedöms uppfyllas"
    assert sv.status_text("met", "outcome") == "Uppfyllt"
    assert sv.status_text("partly_met", "outcome") == "Delvis uppfyllt"
    assert sv.status_text("not_met", "outcome") == "Ej uppfyllt"
    assert sv.status_text("not_met", None) == "Bedöms inte uppfyllas"
    assert sv.status_text("not_assessable", "forecast") == "Kan inte bedömas"
    assert sv.status_text("no_forecast", None) == "Ingen prognos (stödjande mål)"
    for code in ("met", "partly_met", "not_met"):
        assert code in sv.STATUS_COUNT_SV["outcome"]


def test_method_names_cover_every_method() -> None:
    """Every forecast method the engine can name, and the backtest's 'selected', has Swedish words."""
    from ks_analysis.forecast.methods import METHODS

    for method in (*METHODS, "selected", "signal_ratio", "outcome", "alla orter"):
        assert sv.method_sv(method) != method, method
    assert sv.method_sv("no_such_method") == "no_such_method"


def test_gender_labels() -> None:
    """One dictionary for T, K, M and the K-M gap, lower case in running text or capitalised."""
    assert [sv.gender_sv(c) for c in ("T", "K", "M")] == ["totalt", "kvinnor", "män"]
    assert sv.gender_sv("K", capital=True) == "Kvinnor"
    assert sv.gender_sv("K-M") == "skillnad kvinnor–män"
    assert sv.gender_sv("X") == "X"


def test_exact_decimals_show_a_set_value_as_it_was_set() -> None:
    """Targets print with the decimals they were given: 50 -> '50', 2.5 -> '2,5', -0.25 -> '−0,25'."""
    assert [sv.fmt_number(x, decimals=sv.exact_decimals(x)) for x in (50, 2.5, -0.25, 1 / 3)] == [
        "50",
        "2,5",
        "\u22120,25",
        "0,333",
    ]


def test_catalogue_targets_are_worded_with_swedish_numbers() -> None:
    """A decimal target in the catalogue reads with a decimal comma, not Python's point."""
    from ks_analysis.goals.catalogue import Target

    assert Target(type="at_least", value=2.5).describe_sv("%", "higher") == "Minst 2,5\u00a0%"
    assert (
        Target(type="at_most", value=1500).describe_sv("kr", "lower") == "Högst 1\u00a0500\u00a0kr"
    )
    # A plain count needs no unit word ("Minst 50", not "Minst 50 antal"); a rate says per what.
    assert Target(type="at_least", value=50).describe_sv("antal", "higher") == "Minst 50"
    assert (
        Target(type="at_least", value=4).describe_sv("antal/1000 inv", "higher")
        == "Minst 4\u00a0per 1\u00a0000 inv"
    )


def test_chart_ticks_are_swedish_numbers() -> None:
    """Axis ticks read as Swedish numbers: no decimal point, a space in thousands, a real minus."""
    assert [sv.fmt_tick(v) for v in (15000.0, 0.4, 0.30000000000000004, -2.5, 44.8, 0.0)] == [
        "15\u00a0000",
        "0,4",
        "0,3",
        "\u22122,5",
        "44,8",
        "0",
    ]


def test_every_status_and_basis_has_count_words() -> None:
    """Each goal status counts in words on either basis: an outcome that cannot be assessed no longer raises."""
    for code in sv.STATUS_ORDER:
        for basis in ("forecast", "outcome", None):
            words = sv.status_count_sv(code, basis)
            assert words and words != code, (code, basis)
    assert sv.status_count_sv("not_assessable", "outcome") == "kan inte bedömas"
    assert sv.status_count_sv("met", "outcome") == "uppfyllda"


def test_summary_renders_every_status_on_every_basis() -> None:
    """The summary table renders goals of every status, as forecasts and as outcomes (the 2022-Y crash)."""
    from ks_analysis.report.sections import summary_table

    goals = [
        {
            "id": i + 1,
            "area": "A",
            "title": f"Mål {i}",
            "kind": "styrande",
            "status": s,
            "basis": b,
            "status_text": sv.status_text(s, b),
            "p_met": None,
        }
        for i, (s, b) in enumerate((s, b) for s in sv.STATUS_ORDER for b in ("forecast", "outcome"))
    ]
    html = summary_table({"goals": goals, "summary": {"n_goals": len(goals)}})  # type: ignore[typeddict-item]
    counts = html.split('<p class="counts">', 1)[1].split("</p>", 1)[0]
    assert "2 kan inte bedömas" in counts and "2 stödjande mål utan prognos" in counts
    assert (
        "1 uppfyllt," in counts and "1 bedöms uppfyllas" in counts and " och " in counts
    )  # outcomes apart from forecasts
