"""What a reader sees is Swedish: no English number formats, no internal keys, no package files.

Checked on everything visible in the rendered reports, alt texts and tooltips included: the
three demo reports of 2019 and the real 2022-T2 report.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from ks_analysis.paths import PACKAGE_DIR
from ks_analysis.swedish import METHOD_SV

#: Internal method keys (the ids stay in report.json; readers get METHOD_SV's words).
METHOD_KEYS = sorted(k for k in METHOD_SV if re.fullmatch(r"[a-z0-9_]+", k))
#: Files of the package a reader has no use for (notebooks, catalogue, templates, data).
PACKAGE_FILES = sorted(
    {
        p.name
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and p.suffix in {".ipynb", ".yaml", ".json", ".j2", ".py", ".css"}
        and p.name != "__init__.py"
    }
)  # fmt: skip
VERSION = re.compile(r"ks-analysis version \d+\.\d+\.\d+\S*")


def visible_text(html: Path) -> str:
    """Everything a reader can see or hear: text, alt texts and titles (code elements, which
    only hold checksums, left out of the number rules by the caller)."""
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "code"]):
        tag.decompose()
    parts = [soup.get_text(" ")]
    parts += [str(t.get("alt", "")) for t in soup.find_all("img")]
    parts += [str(t.get("title", "")) for t in soup.find_all(title=True)]
    parts += [str(t.get("aria-label", "")) for t in soup.find_all(attrs={"aria-label": True})]
    return VERSION.sub("", "\n".join(parts))


def problems(text: str) -> list[str]:
    """Each offence with a little context."""
    found: list[str] = []

    def add(kind: str, m: re.Match[str]) -> None:
        found.append(f"{kind}: …{text[max(0, m.start() - 40) : m.end() + 10]}…".replace("\n", " "))

    for m in re.finditer(r"\d[eE][+-]?\d", text):
        add("scientific notation", m)
    for m in re.finditer(r"(?<![\w.])\d+\.\d+(?![\w.])", text):
        add("decimal point", m)
    for m in re.finditer(r"(?<![\w\-./:,])\d{5,}(?![\w\-])", text):
        add("five digits without a thousands space", m)
    for key in METHOD_KEYS:
        for m in re.finditer(rf"(?<![\w-]){re.escape(key)}(?![\w-])", text):
            add("method key", m)
    for name in PACKAGE_FILES:
        for m in re.finditer(re.escape(name), text):
            add("package file", m)
    return found


def test_the_rules_catch_each_offence() -> None:
    """The checker itself: each rule finds its offence and lets the Swedish form through."""
    bad = "1.47e+04 personer; 0.406; 15000 invånare; metod ses_pooled; se goals_2019.yaml"
    kinds = {p.split(":")[0] for p in problems(bad)}
    assert kinds == {
        "scientific notation",
        "decimal point",
        "five digits without a thousands space",
        "method key",
        "package file",
    }
    good = "14\u00a0700 personer; 0,41; 15\u00a0000 invånare; år 2019; N03926; 2019-08-31"
    assert problems(good) == []


@pytest.mark.slow
@pytest.mark.parametrize("period", ["2019-T1", "2019-T2", "2019-Y"])
def test_demo_reports_read_swedish(period: str, demo_reports_2019: dict[str, Path]) -> None:
    assert problems(visible_text(demo_reports_2019[period] / "rapport.html")) == []


@pytest.mark.slow
@pytest.mark.real
def test_real_report_reads_swedish(real_report_2022_t2: Path) -> None:
    assert problems(visible_text(real_report_2022_t2 / "rapport.html")) == []
