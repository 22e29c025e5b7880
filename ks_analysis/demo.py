"""A seeded generator of the demo dataset: made-up but realistic data for Vaggeryd, its län and peers.

The demo set lets the main command run on a fresh clone. Nothing in it is real: every number is
drawn from a seeded random generator around plausible levels for a kommun of about 14 000
inhabitants. A few cells are messy on purpose (missing markers, an aggregate row, an unknown
place, a duplicated row, a comma decimal, a negative count) so that cleaning has work to do.
Every report built from it is labelled "Demodata".
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ks_analysis._io import write_atomic
from ks_analysis.geo import geo, kommuner_in_lan

__all__ = ["generate_demo", "DEMO_SEED", "DEMO_MARKER"]

DEMO_SEED = 20190430
DEMO_MARKER = "DEMODATA"
HOME = "0665"
LAN = "0006"
RIKET = "0000"
YEARS = list(range(2010, 2020))
ORTER = ["Vaggeryd", "Skillingaryd", "Hok", "Klevshult", "Byarum", "Bondstorp"]

# (level for Vaggeryd in 2010, yearly drift, noise sd, decimals, gender gap K-M or None)
_KPIS: dict[str, tuple[float, float, float, int, float | None]] = {
    "N01951": (13_020, 95, 25, 0, None),
    "N07917": (2.6, 0.15, 1.2, 1, None),
    "N07923": (14.0, 0.4, 2.5, 1, None),
    "N03926": (2.6, -0.12, 0.25, 6, -0.3),
    "N03920": (6.4, -0.2, 0.45, 6, -0.4),
    "N31816": (1.5, -0.04, 0.15, 6, None),
    "N00999": (8.1, 0.12, 0.9, 1, None),
    "N01004": (6.0, 0.05, 0.8, 1, None),
    "N00926": (0.55, -0.01, 0.2, 2, None),
    "U00408": (44.0, 0.25, 1.5, 0, 1.5),
    "N05401": (84.0, 0.25, 0.6, 1, None),
}
_GENDER_KPIS = {"N03926", "N03920", "U00408"}
#: Vaggeryd's population falls in 2017, when the Migrationsverket's housing for asylum seekers
#: closed (as in many small kommuner): from then on its level is this much lower, so its recent
#: changes are not one steady rise and 2019's increase is not taken for granted.
_ASYLUM_HOUSING_CLOSED = (2017, 175.0)
_NII_YEARS = [2010, 2012, 2014, 2016, 2018, 2019]
_ELECTIONS = [2010, 2014, 2018]


def _fmt(x: float, decimals: int) -> str:
    return f"{x:.{decimals}f}" if decimals else str(int(round(x)))


def _write(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 bytes (no newline translation), creating the folder."""
    write_atomic(path, text.encode("utf-8"))


def _csv(rows: list[list[object]], lineterminator: str = "\n", delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=lineterminator, delimiter=delimiter).writerows(rows)
    return buf.getvalue()


def _annual(rng: np.random.Generator) -> dict[str, dict[tuple[str, int, str], float]]:
    """Yearly values per KPI for Vaggeryd, the län's other kommuner, the län and riket."""
    kommuner = kommuner_in_lan(LAN)
    out: dict[str, dict[tuple[str, int, str], float]] = {}
    for kpi, (level, drift, sd, _dec, gap) in _KPIS.items():
        vals: dict[tuple[str, int, str], float] = {}
        for k in kommuner:
            scale = 1.0 if k == HOME else float(rng.uniform(0.7, 1.35))
            if kpi == "N01951":
                scale = (
                    {"0680": 10.0, "0683": 2.6, "0682": 2.3, "0662": 2.2, "0685": 2.0}.get(
                        k, float(rng.uniform(0.5, 0.9))
                    )
                    if k != HOME
                    else 1.0
                )
            base = level * scale
            walk = 0.0
            for y in YEARS:
                walk += drift * scale + float(
                    rng.normal(0, sd * (scale if kpi == "N01951" else 1.0))
                )
                v = max(base + walk, 0.05)
                if kpi == "N01951" and k == HOME and y >= _ASYLUM_HOUSING_CLOSED[0]:
                    v -= _ASYLUM_HOUSING_CLOSED[1]
                if kpi == "N05401" and y not in _ELECTIONS:
                    prev = max(e for e in _ELECTIONS if e <= y)
                    v = vals[(k, prev, "T")]
                vals[(k, y, "T")] = v
                if gap is not None and kpi in _GENDER_KPIS:
                    shift = gap + float(rng.normal(0, abs(gap) * 0.4))
                    vals[(k, y, "K")] = max(v + shift / 2, 0.05)
                    vals[(k, y, "M")] = max(v - shift / 2, 0.05)
        for y in YEARS:
            for g in ("T", "K", "M"):
                members = [vals[(k, y, g)] for k in kommuner if (k, y, g) in vals]
                if members:
                    lan = float(np.mean(members)) * (1.0 if kpi != "N01951" else len(members))
                    vals[(LAN, y, g)] = lan
                    vals[(RIKET, y, g)] = (
                        lan / len(members) * 790
                        if kpi == "N01951"
                        else lan * float(rng.uniform(1.02, 1.12))
                    )
        out[kpi] = vals
    return out


def _kolada_files(rng: np.random.Generator, root: Path) -> None:
    annual = _annual(rng)
    for kpi, vals in annual.items():
        dec = _KPIS[kpi][3]
        years = _NII_YEARS if kpi == "U00408" else YEARS
        total: list[list[object]] = [["geo", "year", kpi.lower()]]
        split: list[list[object]] = [["geo", "year", "gender", kpi.lower()]]
        for code in sorted({k for k, _, _ in vals}):
            for y in years:
                if kpi == "U00408" and code not in (
                    HOME,
                    LAN,
                    RIKET,
                    "0680",
                    "0683",
                    "0682",
                    "0662",
                ):
                    continue
                v = vals.get((code, y, "T"))
                cell = "" if v is None else _fmt(v, dec)
                if kpi == "N07923" and code == HOME and y == 2012:
                    cell = ""  # a missing year, as in the real plan-readiness KPI
                total.append([code, y, cell])
                if kpi in _GENDER_KPIS:
                    for g in ("K", "M"):
                        gv = vals.get((code, y, g))
                        split.append([code, y, g, "" if gv is None else _fmt(gv, dec)])
        # Kolada's bulk files use CRLF line endings.
        _write(
            root / "kolada" / f"ddf--datapoints--{kpi.lower()}--by--geo--year.csv",
            _csv(total, "\r\n"),
        )
        if kpi in _GENDER_KPIS:
            _write(
                root / "kolada" / f"ddf--datapoints--{kpi.lower()}--by--geo--gender--year.csv",
                _csv(split, "\r\n"),
            )


def _seasonal(month: int, amplitude: float) -> float:
    return 1.0 + amplitude * np.cos(2 * np.pi * (month - 2) / 12)


def _arbetsformedlingen(rng: np.random.Generator, root: Path) -> None:
    """Monthly registered unemployed by kommun name, like Arbetsförmedlingen's tables."""
    rows: list[list[object]] = [["period", "county", "municipality", "unemployedTotal"]]
    for k in kommuner_in_lan(LAN):
        name = geo(k).name
        level = 310.0 if k == HOME else float(rng.uniform(150, 900)) * (6 if k == "0680" else 1)
        trend = -0.004 if k == HOME else float(rng.normal(-0.003, 0.002))
        lvl = level
        for y in range(2015, 2020):
            for m in range(1, 13):
                lvl *= 1 + trend + float(rng.normal(0, 0.015))
                v = lvl * _seasonal(m, 0.06)
                rows.append([f"{y}-{m:02d}", "Jönköpings län", name, int(rng.poisson(v))])
    for m in (1, 2):  # Arbetsförmedlingen's "Uppgift saknas" rows, one of them twice
        rows.append([f"2019-{m:02d}", "Uppgift saknas", "Uppgift saknas", int(rng.integers(3, 9))])
    rows.append(rows[-1])
    rows.append(rows[40])  # an identical duplicate row
    _write(root / "arbetsformedlingen" / "inskrivna_arbetslosa.csv", _csv(rows))


def _tillvaxtanalys(rng: np.random.Generator, root: Path) -> None:
    """Quarterly new firms per kommun in Tillväxtanalys' wide layout (codes without leading zero)."""
    quarters = [f"{y}0{q}" for y in range(2012, 2020) for q in range(1, 5)]
    header: list[object] = ["Kommunnummer", "Kommun", *quarters]
    rows: list[list[object]] = [header]
    total = np.zeros(len(quarters))
    for k in kommuner_in_lan(LAN):
        lam = 19.0 if k == HOME else float(rng.uniform(6, 25)) * (7 if k == "0680" else 1)
        vals = []
        for i, q in enumerate(quarters):
            season = {1: 1.15, 2: 1.0, 3: 0.8, 4: 1.05}[int(q[-1])]
            v = int(rng.poisson(lam * season * (1 + 0.01 * i / 4)))
            total[i] += v
            vals.append(".." if v < 3 and k != HOME else v)  # small counts are suppressed
        rows.append([int(k), geo(k).name, *vals])
    rows.append(["", "Samtliga", *[int(t) for t in total]])
    _write(root / "tillvaxtanalys" / "nystartade_foretag_kommun.csv", _csv(rows))


#: (year, ort) -> the month from which no dwellings are completed there: in autumn 2019 two blocks
#: of flats, in Vaggeryd and in Skillingaryd, are delayed to 2020 (the goal's analysis says so), so
#: the year ends below the target of 50 although the pace up to August pointed to it.
_DELAYED = {(2019, "Vaggeryd"): 9, (2019, "Skillingaryd"): 9}


def _local_registers(rng: np.random.Generator, root: Path) -> None:
    """The municipality's own monthly registers per ort, in the documented template."""
    rows: list[list[object]] = [["indicator", "ort", "period", "value", "comment"]]
    share = dict(zip(ORTER, [0.45, 0.3, 0.1, 0.07, 0.05, 0.03], strict=True))
    lots = dict(zip(ORTER, [6, 5, 2, 2, 1, 1], strict=True))
    followers = 4200.0
    for y in range(2016, 2020):
        per_year = 38 + 4 * (y - 2016) + float(rng.normal(0, 4))
        for m in range(1, 13):
            p = f"{y}-{m:02d}"
            for ort in ORTER:
                done = int(rng.poisson(per_year / 12 * share[ort]))
                if (y, ort) in _DELAYED and m >= _DELAYED[(y, ort)]:
                    done = 0  # the block that would have been finished is delayed to next year
                rows.append(["LOKAL_FARDIGSTALLDA_BOSTADER", ort, p, done, ""])
                lots[ort] = max(
                    0, lots[ort] + int(rng.integers(-1, 2)) if rng.random() < 0.3 else lots[ort]
                )
                rows.append(["LOKAL_BYGGKLARA_TOMTER", ort, p, lots[ort], ""])
            viewers = 0 if m == 7 else int(rng.poisson(420 * (1 + 0.08 * (y - 2016))))
            rows.append(
                ["LOKAL_KF_TITTARE", "", p, viewers, "inget sammanträde i juli" if m == 7 else ""]
            )
            visits = int(rng.normal(52_000 * (1 + 0.05 * (y - 2016)) * _seasonal(m, -0.12), 2500))
            rows.append(["LOKAL_WEBBBESOK", "", p, f"{visits:,}".replace(",", "\u00a0"), ""])
            followers += float(rng.normal(45, 20))
            rows.append(["LOKAL_SOCIALA_MEDIER", "", p, int(followers), ""])
    # Messy cells an analyst might type: a comma decimal and a negative count (both rejected).
    rows.append(["LOKAL_KF_TITTARE", "", "2019-13", 380, "felskriven månad"])
    rows.append(["LOKAL_FARDIGSTALLDA_BOSTADER", "Hok", "2018-06", -2, "felregistrering"])
    _write(root / "lokalt" / "register.csv", _csv(rows))


_ASSESSMENTS = {
    4: (
        "positiv",
        "Samverkan med föreningslivet har utvecklats genom gemensamma träffar och en ny lokalbokning på webben. {p}",
        [
            "Föreningsträffar två gånger per termin",
            "Ny sida om lediga lokaler på vaggeryd.se",
            "Lokalbehov inarbetat i utkastet till lokalförsörjningsplan",
        ],
    ),
    5: (
        "oförändrad",
        "Folkhälsorådet har bildats och haft sitt första möte. Ungas psykiska ohälsa följs via elevhälsans enkät; inga nya resultat sedan förra uppföljningen. {p}",
        [
            "Folkhälsoråd bildat",
            "Hälsoperspektiv i två detaljplaner",
            "Information om friskvård till föreningar",
        ],
    ),
    7: (
        "positiv",
        "Kontakt har tagits med en kommun i Tyskland med liknande förutsättningar via den regionala EU-resursen. Ett studiebesök planeras. {p}",
        [
            "Möte med regional EU-samordnare",
            "Intresseanmälan till vänortsutbyte",
            "Koppling till Agenda 2030 i utbytets plan",
        ],
    ),
    8: (
        "kan_inte_bedomas",
        "Utredningen om ett koncernbolag pågår och kan inte bedömas ännu. Förslagslådan för medarbetare har fått 14 förslag. {p}",
        [
            "Utredning om koncernbolag startad",
            "Förslagslåda för medarbetare",
            "Workshop om flöden mellan förvaltningar",
        ],
    ),
}


# Measurable added values per supporting goal: a number with unit and source, or an indicator id of the data.
_ADDED_VALUES = {
    4: [
        "{description: Besökare på föreningsmässan, value: 420, unit: personer, source: egen räkning (demo)}",
        "{indicator: LOKAL_WEBBBESOK}",
    ],
    5: [
        "{description: Deltagare i folkhälsorådets möten, value: 11, unit: personer, source: protokoll (demo)}"
    ],
    8: [
        "{description: Förslag från medarbetare, value: 14, unit: förslag, source: förslagslådan (demo)}"
    ],
}


# The steering goals' analysis and actions per period (made up): what an analyst writes under each
# goal's forecast, in the period file's `analyses:` section (docs/templates.md).
_ANALYSES = {
    1: (
        {
            "2019-T1": "Befolkningen ökar igen efter minskningen 2017, när boendet för asylsökande stängde, främst genom inflyttning till Vaggeryd och Skillingaryd. Bostadsbyggandet följer planen, men Hok saknar byggklara tomter.",
            "2019-T2": "Inflyttningen håller i sig. Två flerbostadshus, i Vaggeryd och i Skillingaryd, är försenade till nästa år; prognosen bygger på takten hittills och räknar inte med förseningen.",
            "2019-Y": "Folkmängden ökade under året. Färdigställda bostäder nådde inte 50, eftersom de två flerbostadshusen i Vaggeryd och Skillingaryd blev klara först 2020, och det saknas byggklara tomter i de mindre orterna.",
        },
        [
            "Detaljplan för bostäder i Hok prioriteras i planprogrammet",
            "Dialog med byggherrar om tidplanen i Skillingaryd",
        ],
    ),
    2: (
        {
            "2019-T1": "Arbetslösheten är låg men har slutat minska. Långtidsarbetslösheten ligger kvar på förra årets nivå, och andelen med långvarigt ekonomiskt bistånd är oförändrad.",
            "2019-T2": "Antalet inskrivna arbetslösa har ökat något under sommaren, mest bland unga. Långtidsarbetslösheten minskar inte i den takt målet kräver.",
            "2019-Y": "Årets siffror hittills visar att arbetslösheten inte minskar. Etableringen av nyanlända på arbetsmarknaden tar längre tid än planerat.",
        },
        [
            "Fler platser i arbetsmarknadsenhetens praktikprogram",
            "Gemensamt uppdrag med Arbetsförmedlingen för långtidsarbetslösa",
            "Uppföljning av ekonomiskt bistånd varje kvartal i socialnämnden",
        ],
    ),
    3: (
        {
            "2019-T1": "Nyföretagandet är i nivå med tidigare år. Konkurserna är få. Underlaget för helåret är ännu tunt: de flesta värden publiceras först nästa år.",
            "2019-T2": "Tillväxtanalys siffror för första halvåret visar fler nystartade företag än förra året, främst inom tjänster.",
            "2019-Y": "Nyföretagandet ökade, men nystartade arbetsställen och konkurser är ännu inte publicerade för året.",
        },
        [
            "Företagslots för nya företagare via näringslivsenheten",
            "Frukostmöten med det lokala näringslivet varje månad",
        ],
    ),
    6: (
        {
            "2019-T1": "Tittarsiffrorna för fullmäktiges sändningar och följarna i sociala medier ökar. Medborgarundersökningen görs i höst, så Nöjd Inflytande-Index är känt först då.",
            "2019-T2": "Fler följer fullmäktige på webben. Besöken på webbplatsen har ökat sedan den nya startsidan.",
            "2019-Y": "Medborgarundersökningen visar ett något högre Nöjd Inflytande-Index, men kvinnor och män upplever inflytandet olika.",
        },
        [
            "Medborgardialog inför budgeten i alla tre orter",
            "Fullmäktiges sändningar textas",
        ],
    ),
}


def _analyses_lines(period: str, date: str) -> list[str]:
    """The period file's `analyses:` section for the demo."""
    lines = ["analyses:"]
    for gid, (texts, actions) in _ANALYSES.items():
        lines += [
            f"  - goal: {gid}",
            f"    analys: >-\n      {texts[period]}",
            "    atgarder:",
            *[f"      - {a}" for a in actions],
            "    author: Ekonomiavdelningen (demo)",
            f"    date: {date}",
        ]
    return lines


def _assessments(root: Path) -> None:
    notes = {
        "2019-T1": ("2019-05-06", "Bedömningen avser januari–april."),
        "2019-T2": ("2019-09-09", "Bedömningen avser januari–augusti."),
        "2019-Y": ("2020-01-20", "Bedömningen avser hela året."),
    }
    for period, (date, p) in notes.items():
        lines = [
            f"# Självvärderingar för de stödjande målen och analys per styrande mål, {period} ({DEMO_MARKER}: påhittade texter)",
            f"period: {period}",
            "goals:",
        ]
        for gid, (direction, text, acts) in _ASSESSMENTS.items():
            lines += [
                f"  - goal: {gid}",
                f"    direction: {direction}",
                f"    text: >-\n      {text.format(p=p)}",
                "    activities:",
                *[f"      - {a}" for a in acts],
                "    author: Kommunledningskontoret (demo)",
                f"    date: {date}",
            ]
            if gid in _ADDED_VALUES:
                lines += ["    added_values:", *[f"      - {v}" for v in _ADDED_VALUES[gid]]]
        lines += _analyses_lines(period, date)
        _write(root / "assessments" / f"{period}.yaml", "\n".join(lines) + "\n")


# Two made-up Kommunkompassen evaluations (2015 and 2018): area scores 0-100 and a few measure points.
_KOMMUNKOMPASSEN = {
    2015: {
        "offentlighet_demokrati": 52,
        "tillganglighet_brukarorientering": 55,
        "politisk_styrning": 49,
        "ledarskap_delegation": 51,
        "resultat_effektivitet": 46,
        "arbetsgivare": 54,
        "verksamhetsutveckling": 43,
        "samhallsbyggare": 58,
    },
    2018: {
        "offentlighet_demokrati": 58,
        "tillganglighet_brukarorientering": 61,
        "politisk_styrning": 55,
        "ledarskap_delegation": 53,
        "resultat_effektivitet": 52,
        "arbetsgivare": 57,
        "verksamhetsutveckling": 50,
        "samhallsbyggare": 63,
    },
}
_KK_POINTS = {
    2015: [
        ("offentlighet_demokrati", "Information om politiska beslut på webben", 6),
        ("offentlighet_demokrati", "Medborgardialog", 4),
    ],
    2018: [
        ("offentlighet_demokrati", "Information om politiska beslut på webben", 8),
        ("offentlighet_demokrati", "Medborgardialog", 6),
        ("samhallsbyggare", "Samverkan med näringslivet", 12),
    ],
}


def _kommunkompassen(root: Path) -> None:
    """The Kommunkompassen register in the documented template (docs/templates.md)."""
    rows: list[list[object]] = [["year", "area", "measure_point", "score", "comment"]]
    for year, areas in _KOMMUNKOMPASSEN.items():
        for area, score in areas.items():
            rows.append([year, area, "", score, DEMO_MARKER if not rows[1:] else ""])
        for area, point, score in _KK_POINTS[year]:
            rows.append([year, area, point, score, ""])
    _write(root / "kommunkompassen" / "utvarderingar.csv", _csv(rows))


_SOURCES_YAML = f"""\
# Sources manifest of the demo dataset ({DEMO_MARKER}). Every number here is made up by
# ks_analysis/demo.py (seed {DEMO_SEED}); regenerate with `ks-analysis demo --out data/raw/demo`.
demo: true
sources:
  - name: kolada
    files: "kolada/*.csv"
    reader: kolada_bulk_csv
    # Kolada's own publication dates (kpi_results.csv of the real Kolada dump): population, unemployment
    # and planberedskap 22 Feb (53 days after the year), completed dwellings and new workplaces 15 May
    # (135), new firms, bankruptcies and ekonomiskt bistånd 14 Jun (165). U00408 (SCB's citizen survey,
    # published in the survey year's autumn): 20 days, not verified. Other KPIs: the spring after (75).
    publication_lag: {{days: 75, per_indicator: {{N01951: 53, N03920: 53, N03926: 53, N07917: 135, N07923: 53, N31816: 165, N00999: 165, N01004: 135, N00926: 165, U00408: 20}}}}
    election_kpis: [N05401]
  - name: arbetsformedlingen
    files: arbetsformedlingen/inskrivna_arbetslosa.csv
    reader: arbetsformedlingen_monthly
    options: {{indicator: AF_ARBETSLOSA}}
    # Arbetsförmedlingen's monthly statistics come out in the middle of the next month (its press
    # release of 13 July 2020 gave June's figures): 15 days.
    publication_lag: {{days: 15}}
  - name: tillvaxtanalys
    files: tillvaxtanalys/nystartade_foretag_kommun.csv
    reader: tillvaxtanalys_quarterly
    options: {{indicator: TVA_NYSTARTADE, unit: antal}}
    # Tillväxtanalys published new firms 102-119 days after the quarter (Q1 2020 on 15 July 2020,
    # Q2 2018 on 10 October 2018): 120 days.
    publication_lag: {{days: 120}}
  - name: lokalt
    files: lokalt/register.csv
    reader: local_register
    options: {{municipality: "{HOME}"}}
    # The municipality's own registers are known at the end of the month (the kommun keeps them).
    publication_lag: {{days: 0}}
"""


def generate_demo(out: Path, seed: int = DEMO_SEED) -> list[Path]:
    """Write the demo dataset to ``out`` (same seed, same bytes) and return the files written."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    _kolada_files(rng, out)
    _arbetsformedlingen(rng, out)
    _tillvaxtanalys(rng, out)
    _local_registers(rng, out)
    _assessments(out)
    _kommunkompassen(out)
    _write(out / "sources.yaml", _SOURCES_YAML)
    _write(
        out / "README.md",
        f"# Demodata ({DEMO_MARKER})\n\nMade-up data from `ks_analysis/demo.py`, seed {seed}. Not real figures for any kommun.\n",
    )
    return sorted(p for p in out.rglob("*") if p.is_file())
