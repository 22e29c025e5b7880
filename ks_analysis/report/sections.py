"""Render: report sections as HTML fragments in Swedish, for the report notebook's outputs.

Every text that comes from a file a person edits (self-assessments, catalogue texts) is
escaped, so markup in an assessment shows as text and never runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from ks_analysis.periods import Period
from ks_analysis.report.brief import in_brief
from ks_analysis.report.html import render
from ks_analysis.report.model import GoalEntry, IndicatorRow, Report, Trend
from ks_analysis.report.what_it_takes_html import what_it_takes_rules
from ks_analysis.swedish import (
    FAMILY_SV,
    STATUS_ORDER,
    fmt_date,
    fmt_day_month,
    fmt_number,
    fmt_percent,
    gender_sv,
    method_sv,
    status_count_sv,
    status_counts_sv,
    status_text,
)

__all__ = [
    "first_screen",
    "table_of_contents",
    "summary_table",
    "goal_section",
    "rules_section",
    "changes_section",
    "method_section",
    "status_badge",
    "e",
]


def e(text: Any) -> str:
    """HTML-escape any value (None -> '')."""
    return "" if text is None else escape(str(text), quote=True)


def status_badge(status: str, text: str) -> str:
    """Status as symbol + text + colour class (never colour alone)."""
    return str(render("status_badge.html.j2", status=status, text=text))


def _badge(status: str, basis: str | None, indicator: bool = False) -> str:
    """A status badge with the status's own words (for the rules section)."""
    return status_badge(status, status_text(status, basis, indicator=indicator))


def _arrow(t: Trend | None) -> str:
    if not t:
        return '<span class="muted">–</span>'
    sym = {"up": "↑", "down": "↓", "flat": "→"}[t["direction"]]
    word = {"up": "ökning", "down": "minskning", "flat": "oförändrat"}[t["direction"]]
    cls = "" if t["better"] is None else ("better" if t["better"] else "worse")
    judge = "" if t["better"] is None else (" (bättre)" if t["better"] else " (sämre)")
    return f'<span class="arrow {cls}" title="{word} mot {t["year"]}{judge}">{sym}</span><span class="sr">{word} mot {t["year"]}{judge}</span>'


def first_screen(rep: Report) -> str:
    """Title, period, cutoff, the demo-data label and the 'Om rapporten' box."""
    demo = ""
    if rep.get("demo_data"):
        demo = (
            '<div class="demo" role="note"><strong>Demodata.</strong> Rapporten bygger på påhittade data från paketets demodatamängd. '
            "Siffrorna beskriver inte Vaggeryds kommun eller någon annan verklig kommun.</div>"
        )
    steering = [g for g in rep["goals"] if g["kind"] == "styrande"]
    supporting = [g for g in rep["goals"] if g["kind"] != "styrande"]
    lead = f"Av {len(steering)} styrande mål: {status_counts_sv(_status_counts(steering))}"
    missing = sum(g.get("reason_code") == "assessment_missing" for g in supporting)
    lead_support = f"{len(supporting)} stödjande mål följs upp med självvärdering" + (
        f" ({missing} av dem saknar självvärdering för perioden)" if missing else ""
    )
    note = (rep.get("vintage") or {}).get("note_sv")
    vintage = f" <strong>{e(note)}</strong>" if note else ""
    return f"""
<header class="report-head">
<p class="kicker">{e(rep["municipality_name"])}s kommun · Kommunstyrelsens mål</p>
<h1 id="top">Målrapport {e(rep["period_name"])}</h1>
{demo}
<p class="lead">{e(lead)}. {e(lead_support)}.</p>
{in_brief(rep)}
<aside class="about" aria-labelledby="om-rapporten"><h2 id="om-rapporten">Om rapporten</h2>
<ul>
<li>Kommun: {e(rep["municipality_name"])} ({e(rep["municipality"])}). Period: {e(rep["period_name"])}.</li>
<li>Bedömningen avser läget {fmt_date(rep["cutoff"])}. Värden med publiceringsdatum senast {fmt_date(rep["as_of"])} har använts.{vintage}</li>
<li>Målkatalog: {e(rep["catalogue"]["name"])} ({e(rep["catalogue"]["decision"])}).</li>
<li>Jämförelsegrupp: {e(rep["catalogue"]["peer_group_name"])}.</li>
<li>Framtagen {e(rep["generated"][:10])} med ks-analysis {e(rep["package_version"])}; körningens inställningar står under Metod och källor.</li>
<li>En prognos är en bedömning av helårets utfall utifrån det som var känt vid brytpunkten, med en sannolikhet för att målet nås. Prognoser och utfall redovisas åtskilda.</li>
</ul></aside>
</header>"""


def table_of_contents(rep: Report) -> str:
    """Links to every section (anchors are stable: #sammanfattning, #mal-1, ...)."""
    items = ['<li><a href="#sammanfattning">Sammanfattning</a></li>']
    for g in rep["goals"]:
        items.append(f'<li><a href="#mal-{g["id"]}">Mål {g["id"]}. {e(g["title"])}</a></li>')
    for anchor, title in extra_sections(rep):
        items.append(f'<li><a href="#{anchor}">{e(title)}</a></li>')
    return f'<nav class="toc" aria-labelledby="innehall"><h2 id="innehall">Innehåll</h2><ol>{"".join(items)}</ol></nav>'


def extra_sections(rep: Report) -> list[tuple[str, str]]:
    out = [
        ("regler", "Så bedöms målen"),
        ("forandringar", "Förändringar sedan förra prognosen"),
        ("metod", "Metod och källor"),
    ]
    if rep.get("stands_out") is not None:
        out.insert(0, ("sticker-ut", "Resultat som sticker ut"))
    return out


def _status_counts(goals: list[GoalEntry]) -> list[tuple[str, str | None, int]]:
    """(status, basis, n) per status in STATUS_ORDER. Outcomes and forecasts are different
    statements, so they are counted apart; a status worded alike on both bases is counted once."""
    out: list[tuple[str, str | None, int]] = []
    for s in STATUS_ORDER:
        apart = status_count_sv(s, "outcome") != status_count_sv(s, "forecast")
        outcome = sum(g["status"] == s and g["basis"] == "outcome" and apart for g in goals)
        other = sum(g["status"] == s for g in goals) - outcome
        out += [(s, "outcome", outcome), (s, "forecast", other)]
    return out


def summary_table(rep: Report) -> str:
    """All goals by area, kind, status (symbol + text + colour) and P(met), with counts per status."""
    rows = []
    for g in rep["goals"]:
        rows.append(
            f'<tr><td>{e(g["area"])}</td><td><a href="#mal-{g["id"]}">Mål {g["id"]}</a>. {e(g["title"])}</td>'
            f'<td>{e(g["kind"])}</td><td>{status_badge(g["status"], g["status_text"])}</td><td class="num">{fmt_percent(g["p_met"])}</td></tr>'
        )
    parts = status_counts_sv(_status_counts(rep["goals"]))
    return f"""
<section aria-labelledby="sammanfattning"><h2 id="sammanfattning">Sammanfattning</h2>
<p class="counts">Av {rep["summary"]["n_goals"]} mål: {e(parts)}.</p>
<div class="table-wrap"><table class="summary"><caption>Målen per område, med status och sannolikhet att målet uppfylls (P)</caption>
<thead><tr><th scope="col">Område</th><th scope="col">Mål</th><th scope="col">Typ</th><th scope="col">Status</th><th scope="col">P(uppfyllt)</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></div></section>"""


def _interval(r: IndicatorRow) -> str:
    if r["basis"] == "outcome" or r["lo80"] is None:
        return ""
    return f'<br><span class="muted">80 %: {fmt_number(r["lo80"], r["unit"])}–{fmt_number(r["hi80"], r["unit"])}</span>'


def _indicator_table(g: GoalEntry) -> str:
    rows = []
    for r in g["indicators"]:
        if r.get("ort") is not None:
            continue
        label = e(r["title"])
        if r["gender"] != "T":
            label += f" – {gender_sv(r['gender'])}"
        role = {
            "target": "",
            "signal": ' <span class="tag">signal under året</span>',
            "context": ' <span class="tag">sammanhang</span>',
        }[r["role"]]
        if r.get("summary_of_orter"):
            fc_cell = "se orterna nedan"
        else:
            kind = "Utfall" if r["basis"] == "outcome" else "Prognos"
            fc_cell = f"{kind}: {fmt_number(r['forecast'], r['unit'])}{_interval(r)}"
            if r["known_periods"] and r["total_periods"] > 1 and r["basis"] != "outcome":
                fc_cell += f'<br><span class="muted">{_known_text(r["known_periods"], r["total_periods"])}</span>'
            fc_cell += _flag_notes(r)
        if r.get("reason"):
            why = f'<span class="muted">{e(r["reason"])}</span>'
            fc_cell = why if r["basis"] is None else f"{fc_cell}<br>{why}"
        last = (
            f"{fmt_number(r['last_value'], r['unit'])} ({r['last_year']})"
            if r["last_value"] is not None
            else "–"
        )
        status = (
            status_badge(r["status"], r["status_text"])
            if r["role"] == "target"
            else f'<span class="muted">{e(r["status_text"])}</span>'
        )
        rows.append(
            f'<tr><th scope="row">{label}{role}<br><span class="muted">{e(r["indicator"])}, {e(r["unit"])}</span></th>'
            f'<td>{last}</td><td>{e(r["target"])}</td><td>{fc_cell}</td><td class="num">{fmt_percent(r["p_met"])}</td>'
            f'<td class="arrows">{_arrow(r["trend"].get("vs_last_year") if r.get("trend") else None)} {_arrow(r["trend"].get("vs_mandate_start") if r.get("trend") else None)}</td><td>{status}</td></tr>'
        )
    return (
        '<div class="table-wrap"><table class="indicators"><caption>Indikatorer: senaste utfall, mål, prognos med 80 % intervall, sannolikhet att målet nås och trend (mot föregående år och mot mandatperiodens start)</caption>'
        '<thead><tr><th scope="col">Indikator</th><th scope="col">Senaste utfall</th><th scope="col">Mål</th><th scope="col">Prognos/utfall i år</th><th scope="col">P(uppfyllt)</th><th scope="col">Trend</th><th scope="col">Status</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="muted">Trend: första pilen jämför årets prognos (eller utfall) med föregående år, andra pilen med mandatperiodens start. '
        "Grön pil = bättre i målets riktning, röd = sämre, → = oförändrat. P(uppfyllt) är sannolikheten att indikatorns mål nås.</p>"
    )


#: Forecast flags a reader must see, in words.
FLAG_SV = {
    "wide_interval": "Mycket osäker prognos: intervallet är brett.",
    "few_calibration_errors": "Det finns få tidigare prognoser av samma slag att jämföra med, så osäkerheten är svår att mäta; intervallet är därför vidgat.",
    "stale_history": "Senaste kända värde är gammalt.",
}


def _quality_text(dq: Mapping[str, Any]) -> str:
    """The data-quality sentence with Swedish numbers and the right singular or plural."""
    n = {k: int(dq.get(k, 0)) for k in ("rows_read", "rows_kept", "rows_not_yet_published", "rows_rejected", "rows_missing", "rows_duplicate")}  # fmt: skip
    rejected = n["rows_rejected"] - n["rows_not_yet_published"]

    def count(x: int, one: str, many: str) -> str:
        return f"{fmt_number(x, 'antal')} {one if x == 1 else many}"

    return (
        f"Datakvalitet: {count(n['rows_read'], 'inläst rad', 'inlästa rader')}, {fmt_number(n['rows_kept'], 'antal')} använda, "
        f"{fmt_number(n['rows_not_yet_published'], 'antal')} ännu inte publicerade vid bedömningsdagen, "
        f"{fmt_number(rejected, 'antal')} avvisade med angiven orsak, {count(n['rows_missing'], 'saknat värde', 'saknade värden')} "
        f"och {count(n['rows_duplicate'], 'dubblett', 'dubbletter')}."
    )


def _known_text(known: int, total: int) -> str:
    """'8 av 12 månader kända', '2 av 4 kvartal kända'."""
    unit = {12: "månader", 4: "kvartal"}.get(total, "perioder")
    return f"{known} av {total} {unit} kända"


def _flag_notes(r: IndicatorRow) -> str:
    notes = [FLAG_SV[f] for f in r.get("flags", []) if f in FLAG_SV]
    notes += [
        f"Senaste kända värde, från {f.removeprefix('latest_of_')}; det gäller tills nästa mätning."
        for f in r.get("flags", [])
        if f.startswith("latest_of_")
    ]
    return "".join(f'<br><span class="muted">{e(n)}</span>' for n in notes)


def _orter_table(g: Mapping[str, Any]) -> str:
    rows = [r for r in g["indicators"] if r.get("ort") is not None]
    if not rows:
        return ""
    body = "".join(
        f'<tr><th scope="row">{e(r["ort"].title())}</th><td>{e(r["title"])}</td><td>{fmt_number(r["forecast"], r["unit"])}</td><td class="num">{fmt_percent(r["p_met"])}</td><td>{status_badge(r["status"], r["status_text"])}</td></tr>'
        for r in rows
    )
    return f'<div class="table-wrap"><table><caption>Per ort</caption><thead><tr><th scope="col">Ort</th><th scope="col">Indikator</th><th scope="col">Prognos/utfall</th><th scope="col">P(uppfyllt)</th><th scope="col">Status</th></tr></thead><tbody>{body}</tbody></table></div>'


def _comparison_table(g: Mapping[str, Any]) -> str:
    rows = []
    for r in g["indicators"]:
        c = r.get("comparison")
        if not c:
            continue
        label = e(r["title"]) + ("" if r["gender"] == "T" else f" – {gender_sv(r['gender'])}")
        rows.append(
            f'<tr><th scope="row">{label}</th><td>{c["year"]}</td><td class="num">{fmt_number(c["kommun"], r["unit"])}</td><td class="num">{fmt_number(c["lan"], r["unit"])}</td>'
            f'<td class="num">{fmt_number(c["peers"], r["unit"])}</td><td class="num">{fmt_number(c["riket"], r["unit"])}</td></tr>'
        )
    if not rows:
        return ""
    c0 = next(r["comparison"] for r in g["indicators"] if r.get("comparison"))
    return (
        f'<div class="table-wrap"><table><caption>Jämförelse, senaste kända år: kommunen, {e(c0["lan_name"])}, {e(c0["peers_name"])} (ovägt medel av {c0.get("peers_n", "")} kommuner) och riket</caption>'
        '<thead><tr><th scope="col">Indikator</th><th scope="col">År</th><th scope="col">Kommunen</th><th scope="col">Länet</th><th scope="col">Jämförelsegrupp</th><th scope="col">Riket</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def goal_section(g: GoalEntry, extra: str = "") -> str:
    """One goal: ambition, status; indicators, comparisons (steering) or self-assessment (supporting); then ``extra`` (charts, Kommunkompassen)."""
    head = (
        f'<section class="goal" aria-labelledby="mal-{g["id"]}"><h2 id="mal-{g["id"]}">Mål {g["id"]}. {e(g["title"])}</h2>'
        f'<p class="meta">{e(g["area"])} · {e(g["kind"])} mål · {status_badge(g["status"], g["status_text"])}'
        + (f" · P(uppfyllt) {fmt_percent(g['p_met'])}" if g["p_met"] is not None else "")
        + "</p>"
        f'<p class="ambition"><strong>Ambitionsnivå:</strong> {e(g["ambition"])}</p>'
    )
    if g.get("steering_documents"):
        head += (
            f'<p class="muted">Befintliga styrdokument: {e(", ".join(g["steering_documents"]))}</p>'
        )
    if g["kind"] == "styrande":
        body = (
            f"<p>{e(g.get('reason', ''))}</p>"
            + _indicator_table(g)
            + _orter_table(g)
            + _comparison_table(g)
        )
    else:
        a = g.get("assessment")
        if a is None:
            body = f'<p class="warning" role="note"><strong>Kan inte bedömas:</strong> {e(g.get("reason"))}</p>'
        else:
            acts = (
                "".join(f"<li>{e(x)}</li>" for x in a["activities"])
                or "<li>Inga aktiviteter angivna.</li>"
            )
            added = ""
            if a.get("added_values"):
                items = "".join(f"<li>{e(_added_text(v))}</li>" for v in a["added_values"])
                added = f"<h3>Mätbara mervärden</h3><ul>{items}</ul>"
            body = (
                f"<p><strong>Ingen prognos</strong> – stödjande mål följs upp med en kvalitativ självvärdering.</p>"
                f'<h3>Självvärdering</h3><p class="assessment">{e(a["text"])}</p>'
                f"<p><strong>Utvecklingens riktning:</strong> {e(a['direction_text'])}</p>"
                f"<h3>Aktiviteter</h3><ul>{acts}</ul>{added}"
                f'<p class="muted">{e(a["author"])}{", " + e(a["date"]) if a.get("date") else ""}</p>'
            )
    return head + body + extra + "</section>"


def _added_text(v: dict[str, Any]) -> str:
    if "indicator" in v:
        return f"{v.get('title', v['indicator'])}: {v.get('value_text', '')}".strip().rstrip(":")
    parts = [
        str(v.get("description", "")),
        v.get("value_text") or f"{v.get('value', '')} {v.get('unit', '')}".strip(),
    ]
    src = f" (källa: {v['source']})" if v.get("source") else ""
    return ": ".join(p for p in parts if p) + src


def rules_section(rep: Report) -> str:
    """How an indicator status is set and how indicators roll up to a goal, in words."""
    th = rep["catalogue"]["thresholds"]
    met, not_met = round(100 * th["met"]), round(100 * th["not_met"])
    return f"""
<section aria-labelledby="regler"><h2 id="regler">Så bedöms målen</h2>
<ul>
<li><strong>Indikator:</strong> för varje indikator beräknas sannolikheten P att indikatorns mål nås, ur prognosens fördelning för helårets utfall. {_badge("met", "forecast", True)} om P är minst {met}&nbsp;%, {_badge("not_met", "forecast", True)} om P är högst {not_met}&nbsp;%, annars {_badge("uncertain", "forecast", True)}. När hela årets utfall är känt: {_badge("met", "outcome", True)} eller {_badge("not_met", "outcome", True)}. En indikator kan inte nås ”delvis”.</li>
<li><strong>Mål ”öka”/”minska”:</strong> jämförs med föregående års utfall; en tolerans anges i målkatalogen där den finns. <strong>”Minst”/”högst”:</strong> jämförs med målvärdet. Indikatorer per ort med mål på varje ort räknas som uppfyllda bara om alla orter når målet. För en indikator som redovisas för kvinnor och män räknas totalen; kvinnors och mäns värden redovisas bredvid.</li>
<li><strong>Mål:</strong> varje styrande mål har en regel i målkatalogen, oftast att alla målindikatorer ska nå sina mål. Målets P är sannolikheten att regeln håller. Den beräknas ur 5&nbsp;000 gemensamma dragningar ur indikatorernas prognosfördelningar, där indikatorer som brukar röra sig tillsammans dras tillsammans: korrelationen skattas ur kommunens egna förändringar år för år och dras mot noll när historiken är kort. Orter dras oberoende av varandra. {_badge("met", "forecast")} om P är minst {met}&nbsp;%; {_badge("partly_met", "forecast")} om regeln inte säkert håller men några målindikatorer säkert nås och andra säkert inte nås; {_badge("not_met", "forecast")} om P är högst {not_met}&nbsp;%; annars {_badge("uncertain", "forecast")}: underlaget avgör inte.</li>
<li><strong>Utfall och prognos:</strong> när hela årets data är publicerad redovisas utfall ({_badge("met", "outcome")} / {_badge("partly_met", "outcome")} / {_badge("not_met", "outcome")}); P är då 100&nbsp;% eller 0&nbsp;%, och andelen indikatorer som nådde målet anges för sig. Annars redovisas prognos.</li>
<li>{_badge("not_assessable", None)} betyder att data saknas, är för få eller att föregående års utfall ännu inte var publicerat; skälet anges vid indikatorn. En målindikator som inte kan bedömas räknas både som nådd och som inte nådd: avgör den inte målet, kan målet inte bedömas. {_badge("no_forecast", None)}: enligt beslutet följs de stödjande målen bara upp med självvärdering.</li>
{what_it_takes_rules(th)}
</ul></section>"""


def changes_section(rep: Report) -> str:
    """Status moves since the previous forecast of the same year, with reasons."""
    if not rep.get("previous_period"):
        body = "<p>Detta är årets första prognos; det finns ingen tidigare prognos att jämföra med.</p>"
    elif not rep["changes"]:
        body = f"<p>Inga mål eller målindikatorer har bytt status sedan {e(rep['previous_period'])}.</p>"
    else:
        items = []
        for c in rep["changes"]:
            inds = "".join(
                f"<li>{e(i['title'])}{'' if i['gender'] == 'T' else ' – ' + gender_sv(i['gender'])}: {e(i['from_text'])} ({fmt_percent(i['from_p'])}) → {e(i['to_text'])} ({fmt_percent(i['to_p'])}). Orsak: {e(i['reason'])}.</li>"
                for i in c["indicators"]
            )
            items.append(
                f"<li><strong>Mål {c['goal']}</strong>: {e(c['from_text'])} → {e(c['to_text'])}<ul>{inds}</ul></li>"
            )
        body = f"<p>Jämfört med prognosen {e(rep['previous_period'])}:</p><ul>{''.join(items)}</ul>"
    return f'<section aria-labelledby="forandringar"><h2 id="forandringar">Förändringar sedan förra prognosen</h2>{body}</section>'


def method_section(rep: Report, track_record: dict[str, Any] | None = None) -> str:
    """Methods, their backtested accuracy, sources with publication dates, inputs with hashes."""
    methods = sorted({method_sv(r["method"]) for g in rep["goals"] for r in g["indicators"]})
    prov = "".join(
        f"<tr><td>{e(p['indicator'])}</td><td>{e(p['source'])}</td><td>{e(p['latest_period'])}</td><td>{e(p['latest_published'])}{' (beräknat publiceringsdatum)' if p.get('published_basis', 'rule') == 'rule' else ''}</td></tr>"
        for p in rep.get("provenance", [])
    )
    inputs = "".join(
        f"<tr><td>{e(i['file'])}</td><td><code>{e(i['sha256'][:16])}…</code></td></tr>"
        for i in rep["inputs"]
    )
    tr = ""
    if track_record:
        tr = track_record_html(track_record)
    dq = rep.get("data_quality", {})
    return f"""
<section aria-labelledby="metod"><h2 id="metod">Metod och källor</h2>
<p>Helårets utfall = det som är känt vid brytpunkten + en prognos för resten av året. Endast värden som var publicerade senast {fmt_date(rep["as_of"])} används.
Metoder i denna rapport: {e("; ".join(methods))}. Intervallen (80 % och 95 %) är kalibrerade mot paketets egna historiska prognosfel.</p>
<p>Val av metod och osäkerhetsintervall bygger på en efterhandsprövning över alla år med data, även år efter rapportåret. Träffsäkerheten i tabellen nedan är däremot mätt år för år med enbart tidigare år. För månadsserier som redovisas som årsmedelvärde har den valda metoden ingen sådan mätning.</p>
{tr}
<p>{e(_quality_text(dq))}</p>
<h3>Vad som var känt vid brytpunkten</h3>
<div class="table-wrap"><table><thead><tr><th scope="col">Indikator</th><th scope="col">Källa</th><th scope="col">Senaste period</th><th scope="col">Publicerad</th></tr></thead><tbody>{prov}</tbody></table></div>
<p class="muted">Källa för nyckeltal med N- och U-id: Kolada (RKA). Prognoser, sannolikheter och jämförelsegruppens medelvärden är egna beräkningar.</p>
<h3>Indata och kontrollsummor (sha256)</h3>
<div class="table-wrap"><table class="inputs"><thead><tr><th scope="col">Fil</th><th scope="col">sha256</th></tr></thead><tbody>{inputs}</tbody></table></div>
<p class="muted">ks-analysis {e(rep["package_version"])} · rapporten skapad {e(rep["generated"])} · inställningar: {e(", ".join(f"{k}={v}" for k, v in rep["parameters"].items() if k != "peer_group"))}</p>
</section>"""


def track_record_html(tr: dict[str, Any]) -> str:
    """The backtest's accuracy figures (the package's track record) as a short table."""
    cells = tr.get("cells") or []
    if not cells:
        return '<p class="muted">Ingen historisk utvärdering av prognosmetoderna finns med i denna version.</p>'
    # Any year gives the cutoffs' day and month.
    cutoff_sv = {k: fmt_day_month(Period(2000, k).cutoff) for k in ("T1", "T2", "Y")}
    rows = "".join(
        f"<tr><td>{e(cutoff_sv.get(c.get('cutoff'), c.get('cutoff')))}</td><td>{e(FAMILY_SV.get(c.get('family'), c.get('family')))}</td><td>{e(c.get('default', ''))}</td>"
        f'<td class="num">{c.get("n", "")}{"" if c.get("judged", c.get("n", 0) >= 100) else "*"}</td><td class="num">{fmt_number(c.get("mase_vs_naive_annual"), decimals=2)}</td>'
        f'<td class="num">{fmt_number(c.get("mase_vs_ytd_snaive"), decimals=2)}</td><td class="num">{fmt_percent(c.get("coverage80"))}</td><td class="num">{fmt_percent(c.get("coverage95"))}</td><td class="num">{fmt_number(c.get("brier_skill"), decimals=2)}</td></tr>'
        for c in cells
    )
    years = tr.get("years")
    span = f" ({years[0]}–{years[-1]})" if isinstance(years, list) and years else ""
    texts = tr.get("text_sv") or []
    told = (
        "".join(f"<p>{e(t)}</p>" for t in texts)
        if isinstance(texts, list)
        else f"<p>{e(texts)}</p>"
    )
    return (
        "<h3>Hur bra har prognoserna varit? (historisk utvärdering)</h3>"
        f"<p>Metoderna har prövats i efterhand på verkliga offentliga serier{e(span)}: vid varje brytpunkt användes bara det som då var publicerat, "
        "och prognosen jämfördes med det faktiska helårsutfallet. Fel under 1 betyder bättre än jämförelsemetoden; "
        "träff 80 % bör ligga nära 80 % om intervallen är ärliga. Brier-skicklighet mäter hur bra sannolikheterna är: 0 betyder inte bättre än att alltid gissa på hur ofta målen brukar nås, 1 betyder perfekta sannolikheter; över 0 betyder att sannolikheterna säger mer än en gissning på basfrekvensen.</p>"
        f"{told}"
        '<div class="table-wrap"><table><caption>Prognosernas träffsäkerhet per brytpunkt och typ av serie (* färre än 100 prognoser: redovisas men bedöms inte)</caption>'
        '<thead><tr><th scope="col">Bedömningsdag</th><th scope="col">Serier</th><th scope="col">Metod</th><th scope="col">Antal</th><th scope="col">Fel jfr förra årets värde</th>'
        '<th scope="col">Fel jfr enkel metod</th><th scope="col">Träff 80 %</th><th scope="col">Träff 95 %</th><th scope="col">Brier-skicklighet</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
        + (
            '<p class="muted">Året 2020 (pandemin) bröt mönstren och redovisas separat; det ingår inte i tabellen.</p>'
            if tr.get("shock_2020")
            else ""
        )
    )
