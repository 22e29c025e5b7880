"""Small helpers shared by subcommands."""

from __future__ import annotations

import argparse
import datetime as dt

from ks_analysis.errors import ParameterError

__all__ = ["parse_date", "add_example", "progress_enabled"]


def parse_date(text: str | None, what: str = "--as-of") -> dt.date | None:
    """An ISO date, or a ParameterError that says what is wrong with it."""
    if text in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise ParameterError(
            f"{what} {text!r} is not a date; write YYYY-MM-DD, e.g. 2019-05-15"
        ) from None


def add_example(parser: argparse.ArgumentParser, *examples: str) -> None:
    """Put examples under the subcommand's --help."""
    parser.epilog = "Examples:\n" + "\n".join(f"  {e}" for e in examples)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def progress_enabled(args: argparse.Namespace) -> bool:
    """Progress bars unless --quiet."""
    return not getattr(args, "quiet", False)
