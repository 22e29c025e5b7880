"""``ks-analysis kpi search|show`` and ``kolada groups`` on the recorded Kolada catalogue, offline.

The catalogue is rKolada's saved copy of the live v3 API (6 099 KPIs, 3 630 groups) under
``../shared/data/kolada_recorded/`` (``$KS_KOLADA_RECORDED``); it stays outside the project.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ks_analysis.cli import main
from ks_analysis.fetch.metadata import local_metadata, normalise, recorded_dir, search_kpis

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def recorded() -> Path:
    """The recorded catalogue's folder; skips without it (fails in CI)."""
    root = recorded_dir()
    if not (root / "reserialized" / "kpi_objects.json").exists():
        msg = f"recorded Kolada responses not found at {root} (set KS_KOLADA_RECORDED)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return root


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _ids(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines()[1:]]


def test_search_arbetsloshet_finds_both_unemployment_kpis_offline(
    recorded: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`kpi search arbetslöshet --offline` lists N03920 and N03926 (an inflected compound) among the first ten."""
    code, out, err = _cli(capsys, "kpi", "search", "arbetslöshet", "--offline", "--limit", "10")
    assert code == 0, err
    ids = _ids(out)
    assert {"N03920", "N03926"} <= set(ids)
    assert ids[0].startswith("N039")  # a KPI titled with the word itself comes first
    row = next(line for line in out.splitlines() if line.startswith("N03926"))
    assert "K/M" in row and "2027-01-19" in row and "Långtidsarbetslösa i befolkningen" in row
    assert "recorded catalogue" in err


def test_search_is_accent_case_and_inflection_tolerant(recorded: Path) -> None:
    """Without accents, in capitals or inflected, the same KPIs come back in the same order."""
    meta = local_metadata(root=Path("/nonexistent"))
    assert meta is not None and len(meta.kpis) == 6099
    first = [h.kpi.id for h in search_kpis(meta, "långtidsarbetslöshet", limit=10)]
    assert "N03926" in first[:5]
    for variant in ("LANGTIDSARBETSLOSHET", "långtidsarbetslösa", "Långtidsarbetslöshet"):
        assert [h.kpi.id for h in search_kpis(meta, variant, limit=10)] == first, variant
    assert normalise("Arbetslöshet") == normalise("arbetslosa") == ["arbetslos"]


def test_search_by_id_puts_the_kpi_first_and_all_words_must_match(recorded: Path) -> None:
    """An id is found first; two words find only KPIs that have both."""
    meta = local_metadata(root=Path("/nonexistent"))
    assert meta is not None
    assert search_kpis(meta, "n03926")[0].kpi.id == "N03926"
    hits = search_kpis(meta, "konkurser företag", limit=None)
    assert hits and hits[0].kpi.id == "N00926"
    assert all("konkurs" in (h.kpi.title + h.kpi.description).lower() for h in hits)


def test_search_with_no_match_exits_2(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A word found nowhere exits 2 naming the catalogue searched."""
    code, out, err = _cli(capsys, "kpi", "search", "xyzzyq", "--offline")
    assert (code, out) == (2, "")
    assert "no KPI matches 'xyzzyq' among the 6099 KPIs" in err
    # a pasted page is not echoed back whole (found by attacking the CLI: 200 kB of stderr)
    code, _, err = _cli(capsys, "kpi", "search", "q" * 100_000, "--offline")
    assert code == 2 and len(err) < 2_000 and "no KPI matches 'qqq" in err


def test_show_gives_description_source_and_publication(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kpi show N03926` names Arbetsförmedlingen, the gender split and the publication dates."""
    code, out, _ = _cli(capsys, "kpi", "show", "N03926", "--offline")
    assert code == 0
    assert out.startswith("N03926  Långtidsarbetslösa i befolkningen, 25-65 år, andel (%)")
    assert "source:               Arbetsförmedlingen" in out
    assert "gender split:         yes (T, K, M)" in out
    assert "latest period out:    2026" in out and "next publication:     2027-01-19" in out
    code, out, _ = _cli(capsys, "kpi", "show", "n03926", "--offline", "--format", "json")
    assert json.loads(out)["source"] == "Arbetsförmedlingen"


def test_show_of_a_withdrawn_kpi_exits_2(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """U00408 is gone from v3: `kpi show U00408` says so and exits 2."""
    code, _, err = _cli(capsys, "kpi", "show", "U00408", "--offline")
    assert code == 2 and "U00408" in err and "withdrawn" in err


def test_kolada_groups_of_vaggeryd(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`kolada groups 0665` lists Kolada's similar kommuner of Vaggeryd and the län group it is in."""
    code, out, _ = _cli(capsys, "kolada", "groups", "0665", "--offline", "--format", "json")
    assert code == 0
    groups = {g["id"]: g for g in json.loads(out)}
    assert groups["G37569"]["relation"] == "named_after"
    assert groups["G37569"]["title"] == "Liknande kommuner, övergripande, Vaggeryd, 2025"
    assert groups["G33616"]["relation"] == "member_of"
    assert "0665" in {m["id"] for m in groups["G33616"]["members"]}
    assert all(
        "0665" not in {m["id"] for m in g["members"]}
        for g in groups.values()
        if g["relation"] == "named_after"
    )


def test_no_catalogue_offline_exits_2_with_what_to_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without any local catalogue, --offline exits 2 and names `kpi update`."""
    monkeypatch.setenv("KS_KOLADA_RECORDED", str(tmp_path / "none"))
    monkeypatch.setattr("ks_analysis.fetch.metadata.METADATA_DIR", tmp_path / "meta")
    code, _, err = _cli(capsys, "kpi", "search", "arbetslöshet", "--offline")
    assert code == 2 and "ks-analysis kpi update" in err
