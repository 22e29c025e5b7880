"""``report --pdf``: an A4 PDF beside rapport.html whose pages render (pdftoppm), quietly with -q.

Also here, as it renders the same report: ``--as-of`` later than the cutoff writes its own folder
and leaves the regular report as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from ks_analysis.cli import main


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        msg = f"{name} not found (poppler-utils; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.slow
def test_quiet_report_pdf_is_a4_and_renders_and_as_of_has_its_own_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`-q report --period 2019-T1 --pdf`: nothing on stderr, rapport.pdf of A4 pages that render.

    Then `report --as-of 2019-06-01` goes to 2019-T1-per-2019-06-01/ and the regular report's
    files stay byte for byte.
    """
    pdftoppm, pdfinfo = _tool("pdftoppm"), _tool("pdfinfo")
    out = tmp_path / "reports"
    assert main(["-q", "report", "--period", "2019-T1", "--pdf", "--out", str(out)]) == 0
    stdout, stderr = capsys.readouterr()
    folder = out / "0665" / "2019-T1"
    assert stderr == ""
    assert stdout.split() == [str(folder / "rapport.html"), str(folder / "rapport.pdf")]
    pdf = folder / "rapport.pdf"
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    pages = int(fields["Pages"])
    assert pages >= 5  # front page, summary, one section per goal
    assert fields["Page size"].strip().startswith("595.276 x 841.89 pts (A4)")
    assert "Målrapport Delår 1 2019" in fields["Title"]
    # The first three pages render to PNG at 72 dpi: A4 (210 x 297 mm) is 595.3 x 841.9 pixels.
    subprocess.run(
        [pdftoppm, "-r", "72", "-f", "1", "-l", "3", "-png", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert len(rendered) == 3
    for png in rendered:
        width, height = _png_size(png)
        assert abs(width - 210 / 25.4 * 72) < 1 and abs(height - 297 / 25.4 * 72) < 1
        assert png.stat().st_size > 5_000  # not a blank page

    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.*")}
    assert (
        main(["-q", "report", "--period", "2019-T1", "--as-of", "2019-06-01", "--out", str(out)])
        == 0
    )
    later = out / "0665" / "2019-T1-per-2019-06-01"
    assert capsys.readouterr().out.strip() == str(later / "rapport.html")
    assert {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.*")
    } == before
    assert "2019-06-01" in (later / "report.json").read_text(encoding="utf-8")
