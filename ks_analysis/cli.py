"""The ``ks-analysis`` command: goals, periods, clean, report and the rest, for analysts and schedulers.

Each subcommand lives in a module of :mod:`ks_analysis.commands` with ``add_parser(subparsers)``
that registers it and sets ``func``. Exit codes: 0 success, 2 bad input (one clear message on
stderr), 1 a failed run (e.g. a notebook cell failed). Logs and progress go to stderr, results
to stdout. The global options (``-v``, ``-q``) are accepted before or after the subcommand;
``-q`` leaves only errors on stderr (the notebook kernels' own warnings included).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from ks_analysis._version import package_version
from ks_analysis.errors import KsAnalysisError

__all__ = ["main", "build_parser"]

#: Subcommand modules under ks_analysis.commands, in the order --help lists them.
COMMAND_MODULES = [
    "init",
    "catalogue",
    "clean",
    "report",
    "demo",
    "fetch",
    "kpi",
    "kolada",
    "assessments",
    "explore",
    "backtest",
]

#: Subcommands registered by a module of another name (every other command is its module's name).
MODULE_OF_COMMAND = {"goals": "catalogue", "periods": "catalogue"}


class _Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and a one-line hint on bad usage (its default is also 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_global_options(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    """-v and -q; on a subcommand their default is SUPPRESS, so a flag given before it is kept."""
    default: Any = argparse.SUPPRESS if sub else False
    group = parser.add_argument_group("global options")
    group.add_argument(
        "-v", "--verbose", action="store_true", help="more log lines on stderr", default=default
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="only errors on stderr: no log lines, warnings or progress bars",
        default=default,
    )


class _SubParser(_Parser):
    """A subcommand's parser: takes the global options too (``report -q`` as ``-q report``)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _add_global_options(self, sub=True)


def _commands_for(argv: Sequence[str] | None) -> list[str]:
    """The command modules a command line needs: only the named subcommand's (its imports are
    what a short command such as ``explore N99999`` or ``--version`` would otherwise wait for),
    or all of them for top-level help, a misspelt command or none."""
    if argv is None:
        return COMMAND_MODULES
    for token in argv:
        if token in ("-h", "--help"):
            return COMMAND_MODULES
        if token.startswith("-"):
            continue  # the global options take no value
        module = MODULE_OF_COMMAND.get(token, token)
        return [module] if module in COMMAND_MODULES else COMMAND_MODULES
    return COMMAND_MODULES if not any(t == "--version" for t in argv) else []


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (given ``argv``) one with only the subcommands ``argv`` names."""
    parser = _Parser(
        prog="ks-analysis",
        description="Forecast-based follow-up of Kommunstyrelsens mål (Vaggeryds kommun): clean indicator data, forecast the year, judge each goal, render the report.",
        epilog="Example: ks-analysis report --period 2019-T1   (the delår 1 report on the demo data)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ks-analysis {package_version()}")
    _add_global_options(parser, sub=False)
    # Nested subcommands (fetch kolada, kpi search) inherit the class, so they take them too.
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubParser)
    for name in _commands_for(argv):
        module = importlib.import_module(f"ks_analysis.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    root = logging.getLogger()
    previous = root.level
    root.setLevel(level)  # also when a caller configured logging before (restored at the end)
    # Python warnings become log lines at WARNING: shown normally, silenced by -q.
    logging.captureWarnings(True)
    try:
        return _run(parser, args)
    finally:
        root.setLevel(previous)
        logging.captureWarnings(False)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run the chosen subcommand; errors become one message on stderr and an exit code."""
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KsAnalysisError as exc:
        print(f"ks-analysis: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # The reader of stdout went away (`ks-analysis goals | head`): stop quietly, like head's writer.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("ks-analysis: interrupted; nothing was replaced", file=sys.stderr)
        return 130
    except OSError as exc:  # a file system problem no stage turned into a message: still one line
        from ks_analysis._io import os_error_message

        err = os_error_message(exc, exc.filename or "?", f"ks-analysis {args.command}")
        print(f"ks-analysis: error: {err}", file=sys.stderr)
        return err.exit_code
    except MemoryError:
        print(
            "ks-analysis: error: out of memory; an input is far larger than expected "
            "(check the files the manifest lists); nothing was replaced",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # a bug: one line for the user, the traceback with --verbose
        logging.getLogger("ks_analysis").debug("internal error", exc_info=True)
        first = str(exc).splitlines()[0][:300] if str(exc) else ""
        print(
            f"ks-analysis: error: internal error in {args.command} ({type(exc).__name__}: {first}); "
            "nothing was replaced; run again with --verbose for the traceback and report it",
            file=sys.stderr,
        )
        return 1


def entry() -> int:
    """The ``ks-analysis`` command: :func:`main` in a process of its own, which ends after it
    (collector and allocator settings for such a process, see :mod:`ks_analysis._gc`)."""
    from ks_analysis._gc import batch_allocator, freeze_before_exit, tune_for_batch

    tune_for_batch()
    batch_allocator()  # before pandas imports pyarrow
    try:
        return main()
    finally:
        sys.stdout.flush()
        freeze_before_exit()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
