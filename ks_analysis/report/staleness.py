"""Is a report worth reading? The stale-run rule behind exit code 3.

A scheduled run (cron, systemd) that publishes a report on data that has not moved, or in which
most steering goals cannot be assessed, must not pass silently: the report is still written, but
the command prints one warning line and exits 3 so that cron mail and systemd show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ks_analysis.periods import Period

__all__ = ["EXIT_STALE", "previous_cutoff", "stale_reason"]

#: Exit code of a report that was written but should not be trusted as news (see README).
EXIT_STALE = 3


def previous_cutoff(period: Period) -> dt.date:
    """The cutoff of the report before ``period``: T2 -> T1, Y -> T2, T1 -> last year's Y."""
    prev = period.previous()
    return prev.cutoff if prev is not None else Period(period.year - 1, "Y").cutoff


def stale_reason(rep: Mapping[str, Any], period: Period) -> str | None:
    """Why the report is stale, in one English line for the operator; None when it is not.

    Stale when (a) no steering goal has any value published after the previous report's cutoff,
    or (b) more than half of the steering goals cannot be assessed.
    """
    steering = [g for g in rep["goals"] if g["kind"] == "styrande"]
    if not steering:
        return None
    published: dict[str, str] = {}
    for p in rep.get("provenance", []):
        published[p["indicator"]] = max(published.get(p["indicator"], ""), p["latest_published"])
    before = previous_cutoff(period).isoformat()
    newest = {
        g["id"]: max((published.get(r["base_indicator"], "") for r in g["indicators"]), default="")
        for g in steering
    }
    if all(v <= before for v in newest.values()):
        latest = max(newest.values()) or "never"
        return (
            f"no steering goal has data published after the previous report's cutoff {before} "
            f"(newest: {latest}); check that the raw data was refreshed"
        )
    lost = sum(g["status"] == "not_assessable" for g in steering)
    if lost * 2 > len(steering):
        return (
            f"{lost} of {len(steering)} steering goals cannot be assessed; check the raw data and "
            "the goal catalogue's indicator ids"
        )
    return None
