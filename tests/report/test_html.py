"""report/html.py and the fragments rendered through it: escaping is the default, and it stays so.

The hostile tests put markup into the files a person edits (the goal catalogue's texts and KPI
titles, a self-assessment) and into the KPI titles and texts that come with the data, build the real
demo report from them and parse the rendered fragments: the markup must reach the reader as text,
never as an element, an attribute or an evaluated template expression. The guard test scans the
source of ``ks_analysis/report/`` so that HTML built by hand with f-strings or ``+`` cannot come
back.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import datetime as dt
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from ks_analysis import notebook_api as ks
from ks_analysis.params import report_params
from ks_analysis.paths import DEMO_DIR, PACKAGE_DATA_DIR
from ks_analysis.report import exploration as ex
from ks_analysis.report import exploration_forecast as exf
from ks_analysis.report import sections, supporting
from ks_analysis.report.build import build_report, load_report_inputs
from ks_analysis.report.html import environment, render
from ks_analysis.report.model import Report

REPORT_DIR = Path(__file__).resolve().parents[2] / "ks_analysis" / "report"


def hostile(field: str) -> str:
    """Markup that would run, break out of an attribute, or be evaluated if it were not escaped."""
    return f"{field}: <script>alert('{field}')</script> \"><img src=x onerror=alert('{field}')> {{{{ 7*7 }}}}"


class Page(HTMLParser):
    """The elements, attributes and text of an HTML fragment, as a browser's parser sees them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def attribute_values(self) -> list[str]:
        return [v for _, attrs in self.elements for v in attrs.values() if v is not None]


def assert_inert(html: str) -> Page:
    """No script element, no event-handler attribute, images only as embedded PNGs."""
    page = Page(html)
    tags = {t for t, _ in page.elements}
    assert "script" not in tags
    handlers = [(t, a) for t, attrs in page.elements for a in attrs if a.startswith("on")]
    assert handlers == []
    for tag, attrs in page.elements:
        if tag == "img":
            assert str(attrs.get("src")).startswith("data:image/png;base64,"), attrs
    return page


# ----------------------------------------------------------------------------- the whole report


#: Fields of the files an analyst edits, each with its hostile value (catalogue: goal 1, a steering
#: goal with charts, and goal 4, a supporting goal; assessment: goal 4's self-assessment).
CATALOGUE_FIELDS = (
    "catalogue.name",
    "goal1.title",
    "goal1.ambition",
    "goal1.steering_documents",
    "goal1.kpi_title",
    "goal4.title",
    "goal4.ambition",
)
ASSESSMENT_FIELDS = (
    "assessment.text",
    "assessment.activity",
    "assessment.author",
    "assessment.added_value",
)


def _hostile_inputs(tmp: Path) -> tuple[Path, Path]:
    """A copy of the packaged catalogue and of the demo's 2019-T1 self-assessments, with markup."""
    cat = yaml.safe_load((PACKAGE_DATA_DIR / "goals_2019.yaml").read_text(encoding="utf-8"))
    cat["name"] = hostile("catalogue.name")
    goals = {g["id"]: g for g in cat["goals"]}
    goals[1]["title"] = hostile("goal1.title")
    goals[1]["ambition"] = hostile("goal1.ambition")
    goals[1]["steering_documents"] = [hostile("goal1.steering_documents")]
    goals[1]["indicators"][0]["title"] = hostile("goal1.kpi_title")
    goals[4]["title"] = hostile("goal4.title")
    goals[4]["ambition"] = hostile("goal4.ambition")
    goals_p = tmp / "goals.yaml"
    goals_p.write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")

    folder = tmp / "assessments"
    shutil.copytree(DEMO_DIR / "assessments", folder)
    doc = yaml.safe_load((folder / "2019-T1.yaml").read_text(encoding="utf-8"))
    a4 = next(a for a in doc["goals"] if a["goal"] == 4)
    a4["text"] = hostile("assessment.text")
    a4["activities"] = [hostile("assessment.activity"), *a4["activities"][1:]]
    a4["author"] = hostile("assessment.author")
    a4["added_values"] = [
        {
            "description": hostile("assessment.added_value"),
            "value": 3,
            "unit": "st",
            "source": "protokoll",
        }
    ]
    (folder / "2019-T1.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return goals_p, folder


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The demo report 2019-T1 built from a catalogue and self-assessments full of markup."""
    goals_p, folder = _hostile_inputs(tmp_path_factory.mktemp("hostile"))
    return build_report(
        load_report_inputs(report_params(period="2019-T1", goals=goals_p, assessments=folder))
    )


@pytest.fixture(scope="module")
def hostile_page(hostile_report: Report) -> tuple[str, Page]:
    """The report's HTML as notebook 03 shows it (every fragment, charts included), parsed."""
    rep = hostile_report
    html = "".join(
        fn(rep).data for fn in (ks.render_front, ks.render_summary, ks.render_goals, ks.render_back)
    )
    return html, Page(html)


def test_a_report_from_hostile_files_has_no_script_image_or_handler(
    hostile_page: tuple[str, Page],
) -> None:
    """No edited text becomes a script element, an image or an event-handler attribute."""
    assert_inert(hostile_page[0])


@pytest.mark.parametrize("field", CATALOGUE_FIELDS + ASSESSMENT_FIELDS)
def test_markup_in_an_edited_file_reaches_the_report_as_text(
    hostile_page: tuple[str, Page], field: str
) -> None:
    """Markup in a catalogue text, a KPI title or a self-assessment is shown as the text it is."""
    html, page = hostile_page
    assert hostile(field) in page.text
    assert f"alert('{field}')</script>" not in html  # not even as raw characters


def test_a_kpi_title_in_a_chart_alt_text_stays_inside_its_attribute(
    hostile_page: tuple[str, Page],
) -> None:
    """The chart of goal 1's first KPI names it in its alt text; the quote cannot close the attribute."""
    _, page = hostile_page
    alts = [a["alt"] for t, a in page.elements if t == "img" and a.get("alt")]
    assert any(hostile("goal1.kpi_title") in str(alt) for alt in alts)


def test_a_template_expression_in_a_text_is_not_evaluated(hostile_page: tuple[str, Page]) -> None:
    """'{{ 7*7 }}' in an edited text is printed as written; it is data, never a template."""
    _, page = hostile_page
    n_fields = len(CATALOGUE_FIELDS + ASSESSMENT_FIELDS)
    assert page.text.count("{{ 7*7 }}") >= n_fields
    assert "alert('goal1.title')</script> \"><img src=x onerror=alert('goal1.title')> 49" not in (
        page.text
    )


def test_markup_in_the_data_s_texts_is_escaped(hostile_report: Report) -> None:
    """Texts that come with the data (a KPI title from Kolada, a stand-out reason, the vintage
    note, a source name, a change's reason) are escaped in every section that shows them."""
    rep = copy.deepcopy(hostile_report)
    flag = {
        "indicator": "N00000",
        "title": hostile("flag.title"),
        "unit": hostile("flag.unit"),
        "gender": "K",
        "year": 2018,
        "code": "peer_high",
        "value": 1.0,
        "reference": None,
        "peer_median": 0.5,
        "peer_n": 12,
        "band_lo": 0.1,
        "band_hi": 0.9,
        "reason": hostile("flag.reason"),
        "related_goal": 5,
        "strength": 1.0,
    }
    rep["stands_out"] = [flag]
    rep["vintage"] = {"note_sv": hostile("vintage.note")}
    rep["provenance"] = [{**rep["provenance"][0], "source": hostile("provenance.source")}]
    rep["previous_period"] = "2018-Y"
    rep["changes"] = [
        {
            "goal": 1,
            "from_text": hostile("change.from"),
            "to_text": "Osäkert",
            "indicators": [
                {
                    "title": hostile("change.kpi_title"),
                    "gender": "T",
                    "from_text": "x",
                    "from_p": 0.5,
                    "to_text": "y",
                    "to_p": 0.4,
                    "reason": hostile("change.reason"),
                }
            ],
        }
    ]
    goal5 = next(g for g in rep["goals"] if g["id"] == 5)
    goal5["stands_out"] = [flag]
    html = "".join(
        str(part)
        for part in (
            sections.first_screen(rep),
            supporting.render_stands_out(rep),
            supporting.render_goal_extras(goal5),
            sections.changes_section(rep),
            sections.method_section(rep),
        )
    )
    page = assert_inert(html)
    for field in (
        "flag.title",
        "flag.unit",
        "flag.reason",
        "vintage.note",
        "provenance.source",
        "change.from",
        "change.kpi_title",
        "change.reason",
    ):
        assert hostile(field) in page.text, field


def test_a_plain_string_given_as_a_goal_s_extra_is_text(hostile_report: Report) -> None:
    """Only a rendered fragment (Markup) is inserted as HTML; a plain string is escaped."""
    goal = hostile_report["goals"][0]
    page = assert_inert(str(sections.goal_section(goal, hostile("extra"))))
    assert hostile("extra") in page.text


# ----------------------------------------------------------------------------- the exploration


@pytest.fixture(scope="module")
def hostile_exploration() -> ex.Exploration:
    """N03926 in the demo data, titled with markup (as a Kolada title of the data could be)."""
    x = ex.load_exploration(
        indicator="n03926", municipality="0665", gender="T", as_of=dt.date(2020, 6, 30)
    )
    return dataclasses.replace(x, title=hostile("explore.title"))


def test_markup_in_an_explored_kpi_title_is_text(hostile_exploration: ex.Exploration) -> None:
    """The exploration's heading, chart alt texts and captions show a hostile KPI title as text."""
    html = str(ex.render_heading(hostile_exploration)) + str(ex.render_series(hostile_exploration))
    html += str(exf.render_forecast(hostile_exploration))
    page = assert_inert(html)
    assert hostile("explore.title") in page.text
    alts = [str(a.get("alt")) for t, a in page.elements if t == "img"]
    assert len(alts) == 2 and all(hostile("explore.title") in alt for alt in alts)


# ----------------------------------------------------------------------------- the environment


def test_every_fragment_template_compiles_with_autoescape() -> None:
    """Every file under templates/fragments is a template that compiles, with autoescape on."""
    env = environment()
    names = env.list_templates()
    assert len(names) >= 15 and "macros.html.j2" in names
    for name in names:
        assert env.get_template(name) is not None
        assert env.autoescape(name) if callable(env.autoescape) else env.autoescape


def test_every_template_the_code_renders_exists_and_every_fragment_is_used() -> None:
    """The names passed to render() are fragment files, and no fragment file is left unused
    (a fragment is used when code renders it or another fragment imports or includes it)."""
    package = REPORT_DIR.parent
    names = set(environment().list_templates())
    code = "".join(p.read_text(encoding="utf-8") for p in sorted(package.rglob("*.py")))
    rendered = set(re.findall(r"""render\(\s*["']([\w.-]+\.j2)["']""", code))
    assert rendered and rendered <= names
    templates = "".join(environment().loader.get_source(environment(), n)[0] for n in names)  # type: ignore[union-attr]
    used = rendered | set(
        re.findall(r"""(?:import|include|extends)\s+["']([\w.-]+\.j2)["']""", templates)
    )
    assert names - used == set()


def test_none_prints_nothing_and_values_are_escaped() -> None:
    """A missing optional value prints '' (never 'None'); a text is escaped; Markup is not re-escaped."""
    assert render("figure.html.j2", png_base64="AA", alt=None, caption="<b>") == (
        '<figure class="chart"><img src="data:image/png;base64,AA" alt="" width="640">'
        "<figcaption>&lt;b&gt;</figcaption></figure>"
    )
    badge = sections.status_badge("met", "<i>")
    table = render("table.html.j2", caption="c", columns=["k"], rows=[[badge]])
    assert table.count("&lt;i&gt;") == 1 and '<span class="status st-met">' in table


# ----------------------------------------------------------------------------- the guard

#: A start or end tag as HTML writes it: '<td', '</span>', '<br>', '<h2 '.
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:[\s>/]|$)")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (a module's, class's or function's)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def hand_built_html(source: str, filename: str = "<source>") -> list[str]:
    """Where ``source`` builds HTML by hand: a string literal (plain or f-string part) holding a
    tag, or ``Markup(...)`` of anything but a literal empty string (which would mark hand-built
    text as safe). Docstrings may name tags. Returns 'line: what' per finding."""
    tree = ast.parse(source, filename=filename)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docs
            and _TAG.search(node.value)
        ):
            found.append(f"{node.lineno}: string with a tag {node.value[:60]!r}")
        elif isinstance(node, ast.Call):
            fn = node.func
            name = (
                fn.id
                if isinstance(fn, ast.Name)
                else fn.attr
                if isinstance(fn, ast.Attribute)
                else ""
            )
            empty = (
                len(node.args) == 1
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == ""
            )
            if name == "Markup" and not empty:
                found.append(f"{node.lineno}: Markup(...) of a built string")
    return sorted(set(found))


def test_the_guard_finds_hand_built_html() -> None:
    """The guard itself catches the forms the report used to build HTML with."""
    bad = """
def f(x, y):
    a = f'<td class="num">{x}</td>'
    b = "<p>" + y + "</p>"
    c = "".join(f"<li>{v}</li>" for v in y)
    d = Markup(f"<b>{x}</b>")
    return a + b + c + d
"""
    lines = {int(line.split(":")[0]) for line in hand_built_html(bad)}
    assert lines == {3, 4, 5, 6}
    ok = '''
"""A module docstring may show <td> and <figure>."""
def g(x):
    """So may a function's: <br>."""
    return render("t.html.j2", x=x, cmp=x < 3, arrow="->") + Markup("")
'''
    assert hand_built_html(ok) == []


def test_no_module_of_report_builds_html_by_hand() -> None:
    """Every HTML fragment of report/ comes from a template; html.py is the one place that
    marks rendered text as Markup."""
    modules = sorted(REPORT_DIR.glob("*.py"))
    assert len(modules) >= 10
    found = {}
    for p in modules:
        hits = hand_built_html(p.read_text(encoding="utf-8"), str(p))
        if p.name == "html.py":
            hits = [h for h in hits if "Markup" not in h]
        if hits:
            found[p.name] = hits
    assert found == {}


def test_labelling_table_cells_keeps_escaping_and_attribute_order() -> None:
    """The data-label pass re-reads a rendered fragment: text that was escaped stays escaped,
    attributes keep their order, and every body cell gets its column's name."""
    from ks_analysis.report.html import label_cells

    fragment = (
        '<section class="goal" id="x"><table><thead><tr><th>Ort &amp; år</th><th>Värde</th>'
        '</tr></thead><tbody><tr><th scope="row">&lt;script&gt;alert(1)&lt;/script&gt;</th>'
        '<td class="num" title="&quot;&gt;&lt;img onerror=x&gt;">1,5</td></tr></tbody></table>'
        "</section>"
    )
    out = label_cells(fragment)
    assert out.startswith('<section class="goal" id="x">')
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert 'scope="row" data-label="Ort &amp; år"' in out
    assert '<td class="num"' in out and 'data-label="Värde"' in out
