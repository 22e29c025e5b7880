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

__all__ = ["Line", "Lines", "recording", "active", "add", "said", "say_again"]

#: (logger name, level, message)
Line = tuple[str, int, str]


class Lines(list[Line]):
    """The lines of one recording block; ``complete`` is false where a result reused from
    memory came without its lines (it was made outside any recording)."""

    complete = True


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: dict[int, list[Lines]] = {}
        self.saved: tuple[int, bool, list[logging.Handler]] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.INFO:
            for lines in self.lines.get(record.thread or 0, ()):
                lines.append((record.name, record.levelno, record.getMessage()))
        if record.levelno >= self._configured_level(record.name):
            self._pass_on(record)

    def _configured_level(self, name: str) -> int:
        """The effective level the record's logger had before the package logger was lowered."""
        assert self.saved is not None
        lg: logging.Logger | None = logging.getLogger(name)
        while lg is not None:
            if lg.name == "ks_analysis":
                if self.saved[0]:
                    return self.saved[0]
            elif lg.level:
                return lg.level
            lg = lg.parent
        return logging.WARNING

    def _pass_on(self, record: logging.LogRecord) -> None:
        """To the package logger's own handlers and its parents', as
        :meth:`logging.Logger.callHandlers` would (with its last resort where there are none)."""
        assert self.saved is not None
        _, propagate, handlers = self.saved
        found = 0
        for h in handlers:
            found += 1
            if record.levelno >= h.level:
                h.handle(record)
        c = logging.getLogger("ks_analysis").parent if propagate else None
        while c is not None:
            for h in c.handlers:
                found += 1
                if record.levelno >= h.level:
                    h.handle(record)
            c = c.parent if c.propagate else None
        last = logging.lastResort
        if not found and last is not None and record.levelno >= last.level:
            last.handle(record)


_RECORDER = _Recorder()
_LOCK = threading.Lock()


@contextmanager
def recording(enabled: bool = True) -> Iterator[Lines | None]:
    """The package's INFO-and-above lines given in this thread inside the block (None, and
    logging untouched, where ``enabled`` is false). While any block records, the package logger
    is at most at INFO and its lines reach its handlers through the recorder, which passes on
    exactly those the configured levels let through."""
    if not enabled:
        yield None
        return
    pkg = logging.getLogger("ks_analysis")
    me = threading.get_ident()
    lines = Lines()
    with _LOCK:
        if not _RECORDER.lines:  # the first recorder in: route the package's lines through it
            _RECORDER.saved = (pkg.level, pkg.propagate, list(pkg.handlers))
            for h in _RECORDER.saved[2]:
                pkg.removeHandler(h)
            pkg.setLevel(min(pkg.getEffectiveLevel(), logging.INFO))
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
            if not _RECORDER.lines and _RECORDER.saved is not None:
                pkg.removeHandler(_RECORDER)
                level, propagate, handlers = _RECORDER.saved
                pkg.setLevel(level)
                pkg.propagate = propagate
                for h in handlers:
                    pkg.addHandler(h)
                _RECORDER.saved = None


def active() -> bool:
    """Whether this thread is inside a :func:`recording` block."""
    return bool(_RECORDER.lines.get(threading.get_ident()))


def add(lines: list[Line] | None) -> None:
    """Count ``lines`` (kept with a result reused from memory, not said again) as given in this
    thread's recording blocks; None (a result kept without its lines) makes them incomplete."""
    for rec in _RECORDER.lines.get(threading.get_ident(), ()):
        if lines is None:
            rec.complete = False
        else:
            rec.extend(lines)


#: Lines said in this process by work whose result is kept (or said again from the cache):
#: a line is said once per process, as reading a folder once per process says it once.
_SAID: set[Line] = set()
_SAID_LOCK = threading.Lock()


def said(lines: list[Line]) -> None:
    """Note ``lines`` as said in this process."""
    with _SAID_LOCK:
        _SAID.update(lines)


def say_again(lines: list[Line]) -> None:
    """Say each of ``lines`` not yet said in this process, at its own logger and level."""
    with _SAID_LOCK:
        new = [ln for ln in dict.fromkeys(lines) if ln not in _SAID]
        _SAID.update(new)
    for name, level, message in new:
        logging.getLogger(name).log(level, message)
