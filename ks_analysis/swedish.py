"""Swedish for readers: numbers, percentages, dates, statuses, method names and gender labels.

The one place for the words and number formats a report reader sees. Pure: imports nothing of
the package (no pandas either), so every stage can use it.

Numbers follow Swedish typography as CLDR's ``sv`` locale states it: decimal comma, a no-break
space between thousands and a real minus sign (U+2212). The digits come from Python's own
formatting, which rounds the float's exact value; babel's ``format_decimal`` was considered and
not used: with ``sv_SE`` it prints a hyphen-minus (it ignores the locale's minus sign) and takes
about ten times as long per number. Halves round up, on the number as written (7,625 -> 7,63).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "MINUS",
    "GROUP",
    "DECIMAL",
    "MISSING",
    "MONTHS",
    "decimals_for",
    "fmt_number",
    "fmt_signed",
    "exact_decimals",
    "fmt_tick",
    "fmt_percent",
    "fmt_date",
    "fmt_day_month",
    "STATUS_SV",
    "INDICATOR_STATUS_SV",
    "STATUS_SYMBOL",
    "STATUS_CLASS",
    "STATUS_ORDER",
    "STATUS_COUNT_SV",
    "status_counts_sv",
    "status_count_sv",
    "status_text",
    "METHOD_SV",
    "method_sv",
    "METHOD_SHORT_SV",
    "method_short_sv",
    "GENDER_SV",
    "gender_sv",
    "FAMILY_SV",
    "AGG_SV",
]

#: Minus sign, thousands separator and decimal sign of CLDR's ``sv`` number symbols.
MINUS = "\u2212"
GROUP = "\u00a0"
DECIMAL = ","
#: What a reader sees where a number is missing (None, NaN or infinite).
MISSING = "–"
_SWEDISH = str.maketrans({",": GROUP, ".": DECIMAL, "-": MINUS})

MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip


def decimals_for(x: float, unit: str = "") -> int:
    """Decimals a reader needs: none from 100 up or for counts (unit 'antal'), one from 10, else two."""
    ax = abs(x)
    return 0 if ax >= 100 or unit == "antal" else 1 if ax >= 10 else 2


def _finite(x: float | None) -> float | None:
    """``x`` as a finite float, or None for None, NaN and infinity."""
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def fmt_number(x: float | None, unit: str = "", decimals: int | None = None) -> str:
    """A number as Swedish readers write it: '710 300', '45,2', '−3,20'; '–' for None, NaN or inf.

    Decimals follow :func:`decimals_for` unless ``decimals`` is given. A value that rounds to zero
    is shown without a sign. The unit is not printed; it only chooses the decimals.

    >>> fmt_number(-3.2), fmt_number(1234567.891), fmt_number(12.345), fmt_number(7, "antal")
    ('−3,20', '1\\xa0234\\xa0568', '12,3', '7')
    """
    f = _finite(x)
    if f is None:
        return MISSING
    d = decimals_for(f, unit) if decimals is None else decimals
    # Half up, as Swedish reports round (7,625 -> 7,63), on the decimal value as written.
    rounded = Decimal(repr(f)).quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{d}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # -0.001 shown with two decimals is 0,00, not −0,00
    return text.translate(_SWEDISH)


def exact_decimals(x: float, most: int = 3) -> int:
    """The decimals a set value needs to be shown exactly (up to ``most``): 50 -> 0, 2.5 -> 1.

    For values people typed (targets, tolerances), where the measured-value rule of
    :func:`decimals_for` would add zeros: ``fmt_number(2.5, decimals=exact_decimals(2.5))``.
    """
    for d in range(most + 1):
        if round(x, d) == round(x, most):
            return d
    return most


def fmt_tick(value: float, _pos: object = None) -> str:
    """A chart axis tick in Swedish ('15 000', '0,4', '−2,5'), for matplotlib's ``FuncFormatter``.

    Ticks are round values, so they get the decimals they need rather than the measured-value rule.
    """
    return fmt_number(value, decimals=exact_decimals(value))


def fmt_signed(x: float | None, unit: str = "", decimals: int | None = None) -> str:
    """A change with its sign: '+3', '−3,20', '±0' (the sign of the value as shown)."""
    f = _finite(x)
    if f is None:
        return MISSING
    text = fmt_number(abs(f), unit, decimals)
    if not text.strip("0" + DECIMAL + GROUP):
        return "±" + text
    return ("+" if f > 0 else MINUS) + text


def fmt_percent(p: float | None) -> str:
    """A probability or share (0–1) as whole percent: 0.853 -> '85 %' (no-break space); '–' if missing."""
    f = _finite(p)
    if f is None:
        return MISSING
    return f"{round(100 * f):d}\u00a0%".translate(_SWEDISH)


def fmt_day_month(d: dt.date) -> str:
    """A day of the year in words: 2019-04-30 -> '30 april'."""
    return f"{d.day} {MONTHS[d.month - 1]}"


def fmt_date(iso: str | dt.date | None) -> str:
    """A date in words: '2019-04-30' -> '30 april 2019' ('' for none).

    >>> fmt_date("2019-04-30")
    '30 april 2019'
    """
    if not iso:
        return ""
    d = iso if isinstance(iso, dt.date) else dt.date.fromisoformat(str(iso)[:10])
    return f"{fmt_day_month(d)} {d.year}"


# --------------------------------------------------------------------------- statuses

#: Goal status words readers see: forecasts and outcomes of the same status read differently.
STATUS_SV = {
    ("met", "forecast"): "Bedöms uppfyllas",
    ("partly_met", "forecast"): "Bedöms delvis uppfyllas",
    ("not_met", "forecast"): "Bedöms inte uppfyllas",
    ("uncertain", "forecast"): "Osäkert",
    ("met", "outcome"): "Uppfyllt",
    ("partly_met", "outcome"): "Delvis uppfyllt",
    ("not_met", "outcome"): "Ej uppfyllt",
    ("not_assessable", None): "Kan inte bedömas",
    ("no_forecast", None): "Ingen prognos (stödjande mål)",
}
#: An indicator's status words: an indicator's target is reached or not, never "partly".
INDICATOR_STATUS_SV = {
    ("met", "forecast"): "Bedöms nås",
    ("not_met", "forecast"): "Bedöms inte nås",
    ("uncertain", "forecast"): "Osäkert",
    ("met", "outcome"): "Nådde målet",
    ("not_met", "outcome"): "Nådde inte målet",
    ("not_assessable", None): "Kan inte bedömas",
}
#: A symbol for every status: the report never tells a status by colour alone.
STATUS_SYMBOL = {
    "met": "✔",
    "partly_met": "◐",
    "not_met": "✘",
    "uncertain": "○",
    "not_assessable": "?",
    "no_forecast": "–",
}
#: CSS class of a status badge (templates/report.css).
STATUS_CLASS = {
    "met": "st-met",
    "partly_met": "st-partly",
    "not_met": "st-not",
    "uncertain": "st-uncertain",
    "not_assessable": "st-na",
    "no_forecast": "st-nf",
}
#: Order in which statuses are counted in the summary.
STATUS_ORDER = ("met", "partly_met", "uncertain", "not_met", "not_assessable", "no_forecast")
#: Goals counted per status in the summary ("3 bedöms uppfyllas"), by basis.
STATUS_COUNT_SV = {
    "forecast": {
        "met": "bedöms uppfyllas",
        "partly_met": "bedöms delvis uppfyllas",
        "not_met": "bedöms inte uppfyllas",
        "uncertain": "är osäkra",
        "not_assessable": "kan inte bedömas",
        "no_forecast": "stödjande mål utan prognos",
    },
    "outcome": {
        "met": "uppfyllda",
        "partly_met": "delvis uppfyllda",
        "not_met": "ej uppfyllda",
    },
}
#: The singular where it differs ("1 uppfyllt", "1 är osäkert").
STATUS_COUNT_ONE_SV = {
    ("forecast", "uncertain"): "är osäkert",
    ("outcome", "met"): "uppfyllt",
    ("outcome", "partly_met"): "delvis uppfyllt",
    ("outcome", "not_met"): "ej uppfyllt",
}
#: Statuses whose words differ by basis (forecast or outcome).
_BASIS_WORDED = ("met", "partly_met", "not_met")


def status_count_sv(status: str, basis: str | None, n: int = 2) -> str:
    """The words after a count of ``n`` goals in one status ("3 uppfyllda", "1 uppfyllt",
    "1 kan inte bedömas").

    Outcome words exist only where an outcome differs from a forecast (met, partly met, not met);
    a goal that cannot be assessed, is uncertain or has no forecast reads the same on either basis.
    """
    side = "outcome" if basis == "outcome" and status in STATUS_COUNT_SV["outcome"] else "forecast"
    if n == 1 and (side, status) in STATUS_COUNT_ONE_SV:
        return STATUS_COUNT_ONE_SV[(side, status)]
    return STATUS_COUNT_SV[side].get(status) or status_text(status, basis)


def status_counts_sv(counts: list[tuple[str, str | None, int]]) -> str:
    """'1 bedöms uppfyllas, 2 är osäkra och 1 kan inte bedömas' from (status, basis, n) triples."""
    items = [f"{n} {status_count_sv(s, b, n)}" for s, b, n in counts if n]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " och " + items[-1]


def status_text(status: str, basis: str | None, *, indicator: bool = False) -> str:
    """The Swedish status words readers see, e.g. ('met', 'outcome') -> 'Uppfyllt' for a goal,
    'Nådde målet' for an indicator (``indicator=True``)."""
    words = INDICATOR_STATUS_SV if indicator else STATUS_SV
    key = (status, basis if status in _BASIS_WORDED else None)
    if status == "uncertain":
        key = ("uncertain", "forecast")
    return words.get(key) or words.get((status, "forecast")) or STATUS_SV.get(key, status)


# --------------------------------------------------------------------------- methods, groups

#: Forecast methods as readers meet them (the ids stay in report.json for analysts).
METHOD_SV = {
    "naive_annual": "förra årets värde",
    "ses_pooled": "för varje nyckeltal det som träffat bäst tidigare år av förra årets värde, ett utjämnat medel av de senaste åren (samma vikt för alla kommuner) eller förra årets värde plus en del av den senaste förändringen",
    "ytd_snaive": "utfall hittills i år plus förra årets värden för resten av året",
    "ytd_ratio": "utfall hittills i år delat med den andel av året som de månaderna brukar stå för",
    "credibility": "en vägning av takten hittills i år och förra årets nivå",
    "cred_level": "en vägning av takten hittills i år och en utjämnad nivå för de senaste åren",
    "cred_ets": "medelvärdet av en vägning av takten hittills och en säsongsmodell",
    "cred_level_ets": "medelvärdet av en vägning av takten hittills mot de senaste årens nivå och en säsongsmodell",
    "ets_remainder": "en säsongsmodell (ETS) för resten av året",
    "ets_fit": "en säsongsmodell (ETS) för resten av året, med vikter skattade på seriens egna år",
    "cred_level_etsfit": "medelvärdet av en vägning av takten hittills mot de senaste årens nivå och en säsongsmodell med vikter skattade på seriens egna år",
    "yoy_carry": "förra årets värden för resten av året, justerade med den senaste förändringen mot förra året",
    "pooled_level": "utfall hittills i år plus resten av året på kommunens förväntade nivå, skattad tillsammans med alla kommuners (rensad från slumpvariation och från år som rörde alla kommuner)",
    "pooled_level_ets": "medelvärdet av kommunens förväntade nivå skattad tillsammans med alla kommuners och en säsongsmodell",
    "signal_ratio": "förra årets värde × förändringen i en månadssignal",
    "nowcast_bridge": "förra årets värde × förändringen som årets publicerade kvartal eller månader pekar på (brygga skattad på tidigare år)",
    "selected": "den metod som träffat bäst tidigare år",
    "outcome": "utfall (hela året publicerat)",
    "latest_known": "det senast publicerade värdet (ett valresultat gäller till nästa val)",
    "alla orter": "alla orter tillsammans",
}


#: Short names of the methods, for table cells (the long ones are in :data:`METHOD_SV`).
METHOD_SHORT_SV = {
    "naive_annual": "förra årets värde",
    "ses_pooled": "bäst tidigare år av förra årets värde, utjämnat medel eller trend",
    "ytd_snaive": "hittills i år + förra årets resten",
    "selected": "bäst tidigare år",
    "nowcast_bridge": "brygga från årets kvartal",
}


def method_short_sv(method: str) -> str:
    """A forecast method's short Swedish name for a table cell."""
    return METHOD_SHORT_SV.get(method) or METHOD_SV.get(method, method)


def method_sv(method: str) -> str:
    """A forecast method's Swedish name; an unknown id is shown as it is."""
    return METHOD_SV.get(method, method)


#: Gender codes of the tidy table (and K-M, a women/men gap) in running text.
GENDER_SV = {"T": "totalt", "K": "kvinnor", "M": "män", "K-M": "skillnad kvinnor–män"}


def gender_sv(code: str, *, capital: bool = False) -> str:
    """A gender code in words ('K' -> 'kvinnor', or 'Kvinnor' with ``capital``); unknown codes as they are."""
    word = GENDER_SV.get(code, code)
    return word[:1].upper() + word[1:] if capital else word


#: Kinds of series in the backtest and the report's track record.
FAMILY_SV = {
    "monthly": "månadsserier",
    "quarterly": "kvartalsserier",
    "annual": "årsvärden",
    "nowcast": "årsvärden från kvartalsdata under året",
}
#: How a year of sub-annual values is aggregated, in words.
AGG_SV = {"sum": "summor över året", "mean": "årsmedelvärden"}
