"""``ks-analysis init DIR``: lay out a kommun's working folder (raw data, sources manifest, goal catalogue)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

from ks_analysis._io import write_atomic
from ks_analysis.commands._util import add_example, path_arg
from ks_analysis.errors import ParameterError

__all__ = ["add_parser", "init_folder", "SOURCES_TEMPLATE"]

#: The manifest of a new working folder: no entries yet; `fetch kolada` adds its own.
SOURCES_TEMPLATE = """\
# Sources manifest of this raw data folder: one entry per file or glob, with its reader and
# publication lag (the format is documented in docs/templates.md of ks-analysis).
#
# `ks-analysis fetch kolada --out data/raw/kolada` adds the entry `kolada_api` below by itself,
# keeping these comments. Add your own files (Arbetsförmedlingen, Tillväxtanalys, local
# registers) as further entries, for example:
#
#  - name: arbetsformedlingen
#    files: arbetsformedlingen/*.csv
#    reader: arbetsformedlingen_monthly
#    options: {indicator: AF_ARBETSLOSA}
#    publication_lag: {days: 15}   # published around the 15th of the next month
sources: []
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "init",
        help="lay out a working folder: data/raw/ with sources.yaml, assessments/, goals.yaml",
        description=(
            "Create DIR with data/raw/sources.yaml (a commented manifest, no entries yet), "
            "data/raw/assessments/ for the self-assessments, and goals.yaml, a copy of the "
            "packaged goal catalogue (KS mål 2019) to edit. Existing files are never replaced."
        ),
    )
    p.add_argument(
        "dir",
        type=path_arg,
        help="the folder to lay out: new, or one without the files init writes (none is ever replaced)",
    )
    p.add_argument(
        "--municipality",
        default="",
        help="kommun code for the copied catalogue, e.g. 0680; its peer group becomes the län's other kommuner (default: the catalogue's, 0665)",
    )
    add_example(p, "ks-analysis init ks-data", "ks-analysis init ks-jonkoping --municipality 0680")
    p.set_defaults(func=run)


def _catalogue_text(municipality: str) -> str:
    """The packaged catalogue, with another kommun and its län peers when asked (comments kept)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString as Quoted

    from ks_analysis import geo as geo_mod
    from ks_analysis.goals.catalogue import DEFAULT_CATALOGUE

    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8")
    if not municipality:
        return text
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    doc = yaml.load(text)
    if doc.get("municipality") == municipality:
        return text
    lan = geo_mod.geo(municipality).lan_code
    peers = CommentedSeq([Quoted(c) for c in geo_mod.kommuner_in_lan(lan) if c != municipality])
    peers.fa.set_flow_style()
    doc["municipality"] = Quoted(municipality)
    doc["peer_group"]["name"] = f"Övriga kommuner i {geo_mod.geo(lan).name}"
    doc["peer_group"]["members"] = peers
    out = io.StringIO()
    yaml.dump(doc, out)
    head = (
        f"# Copied by `ks-analysis init` for {geo_mod.geo(municipality).name} ({municipality}): "
        "the goals, titles, decision and targets below are still Vaggeryd's 2019; edit them.\n"
    )
    return head + out.getvalue()


def init_folder(folder: Path, municipality: str = "") -> list[Path]:
    """Lay out ``folder``; return the files written.

    Raises:
        ParameterError: ``folder`` is a file, or one of the files exists already.
    """
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"{folder}: is a file; give a new or empty folder")
    files = {
        folder / "data" / "raw" / "sources.yaml": SOURCES_TEMPLATE,
        folder / "goals.yaml": _catalogue_text(municipality),
    }
    taken = [p for p in files if p.exists()]
    if taken:
        raise ParameterError(
            f"{taken[0]} exists already; `init` never replaces a file. Choose a new folder, or move it away"
        )
    (folder / "data" / "raw" / "assessments").mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        write_atomic(path, text, exclusive=True)
    return list(files)


def run(args: argparse.Namespace) -> int:
    from ks_analysis.params import parse_municipality
    from ks_analysis.paths import refuse_raw_output

    code = parse_municipality(args.municipality) if args.municipality else ""
    refuse_raw_output(args.dir, "DIR")  # a new working folder is never laid out inside raw data
    written = init_folder(args.dir, code)
    for path in written:
        print(path)
    d = args.dir
    print(
        "\nNext, from the folder:\n"
        f"  cd {d}\n"
        "  ks-analysis fetch kolada --goals goals.yaml --out data/raw/kolada\n"
        "  ks-analysis clean --raw data/raw\n"
        "  ks-analysis assessments new --period 2019-T1 --raw data/raw --goals goals.yaml\n"
        "  ks-analysis report --period 2019-T1 --raw data/raw --goals goals.yaml"
    )
    return 0
