"""Errors of ks_analysis: one root, and a data error that names file, row, column, value and fix."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "KsAnalysisError",
    "DataFileError",
    "CatalogueError",
    "ParameterError",
    "PeriodError",
    "NotebookError",
    "OutputError",
]


class KsAnalysisError(Exception):
    """Root of every error this package raises on purpose; the CLI turns it into exit code 2."""

    exit_code = 2


class DataFileError(KsAnalysisError):
    """A problem in an input file, told as file, row, column, value and what to do.

    Example message: ``data/raw/pop.csv, row 118, column 'value': '12,5' is not a number;
    write decimals with '.'``.
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        fix: str | None = None,
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.value = value
        self.problem = problem
        self.fix = fix
        parts = [self.path]
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column {column!r}")
        where = ", ".join(parts)
        text = f"{where}: "
        if value is not None:
            text += f"{value!r}: "
        text += problem
        if fix:
            text += f"; {fix}"
        super().__init__(text)


class CatalogueError(KsAnalysisError):
    """The goal catalogue is invalid; the message names the file and the goal."""


class ParameterError(KsAnalysisError):
    """A command-line or notebook parameter is unknown or has the wrong type or value."""


class PeriodError(ParameterError):
    """A period id or date cannot be understood (for example 2019-04-31)."""


class NotebookError(KsAnalysisError):
    """A notebook cell failed; names the notebook, the cell number and the error's last line."""

    exit_code = 1

    def __init__(self, notebook: str, cell: int | None, error: str) -> None:
        self.notebook = notebook
        self.cell = cell
        self.error = error
        where = f"{notebook}, cell {cell}" if cell is not None else notebook
        super().__init__(f"{where}: {error}")


class OutputError(KsAnalysisError):
    """An output folder cannot be written (busy, not writable, disk full); names the path.

    Exit code 1 (the run failed) by default; 2 when the folder given is the problem (a file, not
    writable), which the user fixes by choosing another.
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
