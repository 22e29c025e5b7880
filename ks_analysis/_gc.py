"""Garbage-collector and allocator settings for the package's own short-lived processes (the
command and the kernels it starts), never for a caller's interpreter.

CPython's cyclic collector runs a pass every 700 new container objects (gen 0) and a full pass
over every object now and then. Building a report creates millions of short-lived containers
(pandas indexes, dicts of rows, matplotlib artists) that are freed by reference counting, so
most passes find nothing: measured on the demo report, 580 passes took 0.2 s of 3.3 s. With a
gen-0 threshold of 50 000 the same run makes 7 passes (0.08 s). And at exit, the interpreter's
final passes over everything the process still holds took another 0.25 s; frozen objects are
not scanned by them (``gc.freeze``, which Python documents for exactly such processes) and
the operating system takes the memory back as the process ends.

Arrow (pandas' text columns) allocates through mimalloc by default. In a process that cuts a
546 000-row table a few times and ends, its first large allocations were slow: the cuts of the
real 2022-T2 report's vintage took 0.17-0.27 s each with mimalloc and 0.06-0.09 s with the C
library's allocator, and the whole report 5.0-5.5 s against 4.2-4.4 s. So the command sets
``ARROW_DEFAULT_MEMORY_POOL=system`` (Arrow's documented switch, read when pyarrow is first
imported; every build of Arrow has this backend), unless the environment already sets one; the
kernels it starts inherit it.
"""

from __future__ import annotations

import gc
import os

__all__ = ["ARROW_POOL_ENV", "tune_for_batch", "batch_allocator", "freeze_before_exit"]

#: Arrow's environment variable naming its default allocator.
ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"

#: (gen 0, gen 1, gen 2) thresholds: few passes, each over more objects.
BATCH_THRESHOLDS = (50_000, 20, 20)


def tune_for_batch() -> None:
    """Fewer collector passes in a process that builds a report and ends."""
    gc.set_threshold(*BATCH_THRESHOLDS)


def batch_allocator() -> None:
    """Arrow's allocator for the command's process and the kernels it starts: the C library's,
    unless the environment names one. Takes effect only before pyarrow is imported."""
    os.environ.setdefault(ARROW_POOL_ENV, "system")


def freeze_before_exit() -> None:
    """Move every tracked object out of the collector's reach, so the interpreter's passes at
    exit do not walk what the process is about to give back. Only for a process that ends now."""
    gc.freeze()
