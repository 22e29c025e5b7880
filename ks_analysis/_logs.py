"""The package's log lines of a piece of work, kept to be said again when its result is reused.

The cache of cleaned vintages (:mod:`ks_analysis.clean.cache`) says again, on a hit, what reading
and cleaning said the first time (a file the manifest does not list, a file read as latin-1),
also when that first run was quiet (``-q``). :func:`recording` keeps the INFO-and-above lines the
package gives in this thread inside its block; work whose result is kept in memory for later
callers (the raw rows read once per process, the vintage-independent cleaning) keeps its lines
with the result (:func:`active`, :func:`add`), so that a vintage cleaned second in a process
records what its reading said too.

While a block records, and only if the package's configured level would drop INFO lines, the
``ks_analysis`` logger is set to INFO and its lines reach its handlers and its parents' handlers
through the recorder, which passes on exactly those the configured level lets through, as
:meth:`logging.Logger.callHandlers` would.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Line", "recording", "active", "add"]

#: (logger name, level, message)
Line = tuple[str, int, str]


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: dict[int, list[list[Line]]] = {}
        self.threshold = logging.NOTSET
        self.saved: tuple[int, bool, list[logging.Handler]] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.INFO:
            for lines in self.lines.get(record.thread or 0, ()):
                lines.append((record.name, record.levelno, record.getMessage()))
        if self.saved is not None and record.levelno >= self.threshold:
            self._pass_on(record)

    def _pass_on(self, record: logging.LogRecord) -> None:
        """To the package logger's own handlers and its parents', as logging would have."""
        assert self.saved is not None
        _, propagate, handlers = self.saved
        for h in handlers:
            if record.levelno >= h.level:
                h.handle(record)
        c = logging.getLogger("ks_analysis").parent if propagate else None
        while c is not None:
            for h in c.handlers:
                if record.levelno >= h.level:
                    h.handle(record)
            c = c.parent if c.propagate else None


_RECORDER = _Recorder()
_LOCK = threading.Lock()


@contextmanager
def recording(enabled: bool = True) -> Iterator[list[Line] | None]:
    """The package's INFO-and-above lines given in this thread inside the block (None, and
    logging untouched, where ``enabled`` is false)."""
    if not enabled:
        yield None
        return
    pkg = logging.getLogger("ks_analysis")
    me = threading.get_ident()
    lines: list[Line] = []
    with _LOCK:
        if not _RECORDER.lines:  # the first recorder in
            _RECORDER.threshold = pkg.getEffectiveLevel()
            if _RECORDER.threshold > logging.INFO:  # lines the configured level drops: route
                _RECORDER.saved = (pkg.level, pkg.propagate, list(pkg.handlers))
                for h in _RECORDER.saved[2]:
                    pkg.removeHandler(h)
                pkg.setLevel(logging.INFO)
                pkg.propagate = False
            pkg.addHandler(_RECORDER)
        _RECORDER.lines.setdefault(me, []).append(lines)
    try:
        yield lines
    finally:
        with _LOCK:
            stack = _RECORDER.lines[me]
            stack.remove(lines)
            if not stack:
                del _RECORDER.lines[me]
            if not _RECORDER.lines:
                pkg.removeHandler(_RECORDER)
                if _RECORDER.saved is not None:
                    level, propagate, handlers = _RECORDER.saved
                    pkg.setLevel(level)
                    pkg.propagate = propagate
                    for h in handlers:
                        pkg.addHandler(h)
                    _RECORDER.saved = None


def active() -> bool:
    """Whether this thread is inside a :func:`recording` block."""
    return bool(_RECORDER.lines.get(threading.get_ident()))


def add(lines: list[Line]) -> None:
    """Count ``lines`` (kept with a result reused from memory, not said again) as given in this
    thread's recording blocks."""
    for rec in _RECORDER.lines.get(threading.get_ident(), ()):
        rec.extend(lines)
