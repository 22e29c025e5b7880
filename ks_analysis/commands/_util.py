"""Small helpers shared by subcommands."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from ks_analysis.params import parse_as_of

__all__ = ["parse_date", "path_arg", "add_example", "progress_enabled", "note"]


def parse_date(text: str | None) -> dt.date | None:
    """``--as-of`` as a date (None when left out), with the parameter's one message (see params)."""
    return parse_as_of(text)


def path_arg(text: str) -> Path:
    """A path option's value; an empty one is refused (``Path("")`` is the working folder, so
    ``--raw ""`` from an unset variable would read, or ``init ""`` lay out, the folder one is in)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "is empty; give a folder or file (an unset shell variable?)"
        )
    return Path(text)


def add_example(parser: argparse.ArgumentParser, *examples: str) -> None:
    """Put examples under the subcommand's --help."""
    parser.epilog = "Examples:\n" + "\n".join(f"  {e}" for e in examples)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def progress_enabled(args: argparse.Namespace) -> bool:
    """Progress bars only on a terminal (never into a redirected log) and not with --quiet."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def note(args: argparse.Namespace, text: str) -> None:
    """A line for the person at the terminal on stderr (what was read, what was found), unless --quiet."""
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)
