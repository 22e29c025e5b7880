"""Render: the one Jinja2 environment for the report's HTML fragments.

Every fragment of the report is a template under ``ks_analysis/templates/fragments/``, rendered
with autoescape on: a value from a file a person edits (a self-assessment, an analysis, a catalogue
text) is escaped by default, and only a fragment that was itself rendered here (a ``Markup``) is
inserted as HTML. Undefined names fail loudly (``StrictUndefined``) instead of printing nothing.
The Swedish formatters are registered as filters, so templates format numbers, percentages and
dates the one way ``ks_analysis.swedish`` does.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ks_analysis import swedish

__all__ = ["render", "environment", "Markup"]


def _blank_none(value: Any) -> Any:
    """What ``{{ value }}`` prints: '' for None, else the value (escaped by autoescape)."""
    return "" if value is None else value


@cache
def environment() -> Environment:
    """The fragments' environment (built once per process)."""
    env = Environment(
        loader=PackageLoader("ks_analysis", "templates/fragments"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # A missing optional value (None) prints nothing, never the word "None".
        finalize=_blank_none,
    )
    env.filters.update(
        number=swedish.fmt_number,
        signed=swedish.fmt_signed,
        percent=swedish.fmt_percent,
        date_sv=swedish.fmt_date,
        day_month=swedish.fmt_day_month,
        method_sv=swedish.method_sv,
        method_short_sv=swedish.method_short_sv,
        gender_sv=swedish.gender_sv,
    )
    env.globals.update(
        STATUS_CLASS=swedish.STATUS_CLASS,
        STATUS_SYMBOL=swedish.STATUS_SYMBOL,
        status_text=swedish.status_text,
        FAMILY_SV=swedish.FAMILY_SV,
    )
    return env


def render(template: str, /, **context: Any) -> Markup:
    """Render the fragment ``template`` (a file name under templates/fragments) with ``context``.

    The result is ``Markup``: safe to insert into another fragment without being escaped again.
    """
    out = environment().get_template(template).render(**context).strip()
    return Markup(label_cells(out) if _TABLE.search(out) else out)


#: A rendered fragment with a table in it (spelt as a pattern: report/ builds no tags by hand).
_TABLE = re.compile(r"<\s*table\b")


def _keep_order() -> Any:
    """BeautifulSoup's HTML formatter, keeping each tag's attributes in their written order
    (its default sorts them), escaping as its default does."""
    from bs4.dammit import EntitySubstitution
    from bs4.formatter import HTMLFormatter

    class KeepOrder(HTMLFormatter):
        def attributes(self, tag: Any) -> Any:
            return list(tag.attrs.items())

    # 'minimal' escaping, as bs4's default: &, < and > in text (and quotes in attributes) stay
    # escaped, so text from an edited file can never become markup on the way through.
    return KeepOrder(entity_substitution=EntitySubstitution.substitute_xml)


def label_cells(html: str) -> str:
    """Give every body cell of every table the name of its column (``data-label``), from the
    table's header row, so that a phone can show each row as a card of labelled values instead
    of a table wider than the screen (report.css). Cells that already have a label keep it."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for table in soup.find_all("table"):
        head = table.find("thead")
        if head is None:
            continue
        names = [th.get_text(" ", strip=True) for th in head.find_all("th")]
        for tr in table.find_all("tr"):
            if tr.find_parent("thead") is not None:
                continue
            for i, cell in enumerate(tr.find_all(["td", "th"], recursive=False)):
                if i < len(names) and names[i] and not cell.has_attr("data-label"):
                    cell["data-label"] = names[i]
    return soup.decode(formatter=_keep_order())
