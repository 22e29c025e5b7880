"""Exploring one indicator: the library functions on the demo data, and the notebook rendered by the CLI."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from ks_analysis import notebook_api
from ks_analysis.cli import main
from ks_analysis.errors import ParameterError
from ks_analysis.periods import Period
from ks_analysis.report import exploration as ex
from ks_analysis.report import exploration_forecast as exf
from ks_analysis.swedish import fmt_number


@pytest.fixture(scope="module")
def x() -> ex.Exploration:
    return ex.load_exploration(
        indicator="n03926", municipality="0665", gender="T", as_of=dt.date(2020, 6, 30)
    )


def test_load_keeps_the_indicator_rows_and_the_lan_as_peers(x: ex.Exploration) -> None:
    """An exploration keeps only its indicator's rows known by as_of and the other kommuner of the län as peers."""
    assert (
        x.indicator.id == "N03926"
        and x.in_catalogue
        and len(x.peers) == 12
        and "0665" not in x.peers
    )
    assert set(x.rows["indicator"]) == {"N03926"} and (x.rows["published"] <= "2020-06-30").all()


def test_every_cell_renders_html_with_an_alt_text(x: ex.Exploration) -> None:
    """Every exploration section renders HTML whose images are embedded and have alt text."""
    for fn in (
        ex.render_heading,
        ex.render_series,
        ex.render_peers,
        ex.render_gender,
        ex.render_provenance,
        exf.render_forecast,
    ):
        html = fn(x)
        assert html.startswith(("<h", "<header")) and "Traceback" not in html
        for img in re.findall(r"<img [^>]*>", html):
            assert 'alt="' in img and "data:image/png;base64," in img
    assert "Kvinnor" in ex.render_gender(x) and "ddf--datapoints--n03926" in ex.render_provenance(x)


def test_backtest_of_the_series_compares_forecasts_with_outcomes(x: ex.Exploration) -> None:
    """The series backtest has one row with an error per consecutive year asked for."""
    bt = exf.backtest_series(x, years=3)
    assert len(bt) == 3 and bt["error"].notna().all() and (bt["year"].diff().dropna() == 1).all()


def test_backtest_replays_delar_2_from_the_period_calendar(
    x: ex.Exploration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The series' track record forecasts at delår 2's cutoff as periods.py defines it, and says so."""
    seen: list[object] = []
    real = exf.forecast_indicator

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs["cutoff"])
        return real(*args, **kwargs)

    monkeypatch.setattr(exf, "forecast_indicator", spy)
    bt = exf.backtest_series(x, years=2)
    assert seen == [Period(int(y), "T2").cutoff for y in bt["year"]]
    html = exf.render_forecast(x)
    assert "Prognos (31 aug)" in html and "(per 31 augusti)" in html


def test_numbers_use_the_report_format(x: ex.Exploration) -> None:
    """Tables and alt texts print numbers as the report does: decimal comma, real minus sign."""
    text = re.sub(r"<img [^>]*>", "", ex.render_gender(x) + ex.render_series(x))
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    numbers = [c for c in cells if re.fullmatch(r"[\u2212\d\u00a0,]+", c) and "," in c]
    assert numbers, "no decimal numbers in the tables"
    assert not re.search(r"-\d|\d\.\d", " ".join(cells))
    gaps = re.findall(r"<td[^>]*>(\u2212?\d+,\d+)</td></tr>", ex.render_gender(x))
    assert gaps and all(
        g == fmt_number(float(g.replace("\u2212", "-").replace(",", "."))) for g in gaps
    )


def test_unknown_indicator_and_bad_gender_are_refused() -> None:
    """An indicator without rows is refused naming the nearest ids with data; the notebook's entry refuses an unknown gender."""
    with pytest.raises(
        ParameterError, match=r"'N99999' has no rows for 0665.*nearest ids with data: N00999"
    ):
        ex.load_exploration(indicator="N99999", municipality="0665")
    with pytest.raises(ParameterError, match=r"gender 'X'"):
        notebook_api.load_exploration(indicator="N03926", gender="X")


@pytest.mark.slow
def test_cli_renders_one_self_contained_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`explore` writes one self-contained HTML file named after indicator, kommun and gender, and nothing else."""
    assert main(["-q", "explore", "N03926", "--gender", "K", "--out", str(tmp_path)]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == tmp_path / "N03926-0665-K.html" and path.exists()
    html = path.read_text(encoding="utf-8")
    assert (
        "Långtidsarbetslöshet" in html
        and "Prognos och metod" in html
        and "injected-parameters" not in html
    )
    assert not re.search(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']?(?:https?:)?//", html)
    assert path.stat().st_size < 3 * 1024 * 1024
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary files left behind


@pytest.mark.slow
def test_cli_refuses_a_bad_municipality_before_any_kernel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`explore --municipality 665` exits 2 asking for 4 digits and writes nothing."""
    assert main(["explore", "N03926", "--municipality", "665", "--out", str(tmp_path)]) == 2
    assert "4 digits" in capsys.readouterr().err and not list(tmp_path.iterdir())
