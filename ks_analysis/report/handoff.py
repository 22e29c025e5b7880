"""Hand a report's model from ``ks-analysis report`` to its notebook's kernel.

The report notebook's expensive cell builds the report: it reads and cleans the raw folder,
forecasts every indicator and judges every goal. The kernel that runs it is a process of its own
that takes seconds to start and import the package, and ``ks-analysis report`` waits for it
meanwhile. On two cores the command therefore builds the model itself while the kernel boots on
the other core, with the function the notebook's cell calls and the notebook's own text
parameters, and hands it over in a file: the notebook's ``prebuilt`` parameter names the file,
and its build cell loads the model instead of building it again. The cleaned vintage of the
report goes with it, so that the data-quality notebook, in the same kernel, shows the rows the
report used without reading the raw folder a second time, and charts drawn ahead (where the
command draws them). Before the model, the command hands the kernel the period's judged goals
in a message (:func:`chart_goals_text`), and the kernel draws their charts while the command
builds the rest of the model.

A model is taken only by the same package version and for the same parameters; anything else
(no file, another version, other parameters, a file that cannot be read) makes the notebook
build the model itself, as it does in JupyterLab, where ``prebuilt`` is empty. The file is
written into the run's temporary report folder (readable by this user only) and removed before
that folder is swapped in; a killed run's is swept up with the folder by the next run.
"""

from __future__ import annotations

import base64
import logging
import os
import pickle
from pathlib import Path
from typing import Any

from ks_analysis._version import package_version

__all__ = ["FORMAT", "write_prebuilt", "read_prebuilt", "chart_goals_text", "read_chart_goals"]

log = logging.getLogger(__name__)

#: The layout of the handed-over file; a change makes older files unreadable, never misread.
FORMAT = 2


def write_prebuilt(
    path: Path,
    params: dict[str, str],
    report: Any,
    cleaned: list[tuple[Any, Any]],
    charts: dict[str, Any] | None = None,
) -> Path:
    """Write the built ``report`` for the notebook's text ``params`` to ``path``,
    with the cleaned vintages ``cleaned`` as (memo key, result) pairs and the charts drawn
    ahead (:func:`ks_analysis.report.charts.draw_ahead`), if any."""
    payload = {
        "format": FORMAT,
        "version": package_version(),
        "params": dict(params),
        "report": report,
        "cleaned": cleaned,
        "charts": dict(charts or {}),
    }
    # Readable by this user only. Not written atomically (nor synced) on purpose: the notebook
    # reads it only after this function returned, and a killed run's file goes with its
    # temporary report folder.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _current(payload: Any, what: str) -> bool:
    """Whether ``payload`` is of this format and package version (else logged, for ``what``)."""
    why = (
        "another format"
        if not isinstance(payload, dict) or payload.get("format") != FORMAT
        else "another package version"
        if payload.get("version") != package_version()
        else ""
    )
    if why:
        log.info("%s: written with %s, not used", what, why)
    return not why


def chart_goals_text(goals: list[Any], year: int) -> str:
    """The steering goals of ``goals`` (as judged, before the rest of the model is built) and
    the report year, as text for a message to the kernel, which draws their charts while the
    command finishes the model (:func:`ks_analysis.notebook_api.draw_charts_ahead`). No file:
    the message goes to this run's own kernel, signed with its connection key."""
    steering = [g for g in goals if g.get("kind") == "styrande"]
    payload = {"format": FORMAT, "version": package_version(), "goals": steering, "year": int(year)}
    return base64.b64encode(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")


def read_chart_goals(text: str) -> tuple[list[Any], int] | None:
    """The (steering goals, report year) of :func:`chart_goals_text`, or None (logged) for
    text of another format or package version, or no such text."""
    try:
        payload = pickle.loads(base64.b64decode(text.encode("ascii"), validate=True))
    except (ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        log.info("no goals handed over for their charts (%s)", type(exc).__name__)
        return None
    if not _current(payload, "the goals handed over for their charts") or "goals" not in payload:
        return None
    return list(payload["goals"]), int(payload["year"])


def read_prebuilt(
    path: str, params: dict[str, str]
) -> tuple[Any, list[tuple[Any, Any]], dict[str, Any]] | None:
    """The (report, cleaned vintages, charts drawn ahead) handed over in ``path`` for exactly
    these ``params``, or None (with a log line saying why) for the notebook to build the report
    itself."""
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            # The file is this run's own, written by this package's command and readable by this
            # user only (pickle is not for files of unknown origin).
            payload = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        log.info("no report model handed over (%s): building it here", type(exc).__name__)
        return None
    if not _current(payload, "the report model handed over") or "report" not in payload:
        return None  # building it here
    if payload.get("params") != dict(params):
        log.info("the report model handed over was built with other parameters: building it here")
        return None
    return payload["report"], list(payload["cleaned"]), dict(payload["charts"])
