"""File helpers shared by the stages: atomic writes, output folders swapped as one under a lock,
and sha256 of files (imports only :mod:`ks_analysis.errors`)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ks_analysis.errors import OutputError

__all__ = [
    "temp_file",
    "write_atomic",
    "sha256_file",
    "sha256_bytes",
    "output_folder",
    "swap_dir",
    "os_error_message",
    "locked_output",
    "sweep_litter",
    "FAULT_ENV",
    "fault_point",
]

log = logging.getLogger(__name__)

#: OS errors that mean the folder given is unusable (the user picks another: exit 2);
#: anything else (disk full, I/O error) is a failed run (exit 1).
_BAD_PLACE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR, errno.EEXIST}


#: Testing only: ``KS_ANALYSIS_FAULT="point:action[,point:action]"`` makes a run fail at a named
#: point of the output machinery, so that the hostile suite can check what a kill or a full disk
#: there leaves (tests/hostile/test_kill.py). Actions: ``kill`` (SIGKILL to the run's process group
#: when the run leads its group, else to the run alone: the notebook kernels die with it) and
#: ``enospc`` (an ``OSError`` "No space left on device", as a full disk gives). Points:
#: ``locked`` (the output lock is held), ``tmp`` (the temporary folder is made),
#: ``before-swap`` (the new outputs are complete in it), ``aside`` (the previous folder was moved
#: aside, where folders cannot be exchanged in one step), ``exchanged`` (the folders traded places,
#: the previous outputs not yet removed), ``swapped`` (all done, the lock still held) and
#: ``file`` (a single file written by :func:`temp_file`, before its rename). Unset (the default)
#: nothing is checked: production runs never see it.
FAULT_ENV = "KS_ANALYSIS_FAULT"


def fault_point(point: str, path: Path | str = "") -> None:
    """Fail here when :data:`FAULT_ENV` names ``point`` (testing only; a no-op when it is unset)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    for item in spec.split(","):
        name, _, action = item.strip().partition(":")
        if name != point:
            continue
        if action == "kill":
            log.debug("fault injection: SIGKILL at %s", point)
            if os.getpgrp() == os.getpid():
                os.killpg(os.getpgrp(), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def _default_mode() -> int:
    """The mode a plain ``open()`` gives a new file: 0666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync(path: Path) -> None:
    """Flush a written file's bytes to disk, so a rename never shows a file that is not there yet."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_file(path: Path, write: Callable[[Path], object]) -> Path:
    """Write through ``write(tmp)`` to a temporary file beside ``path`` and return it, synced, for renaming.

    The temporary file is hidden (``.<name>.*.tmp``) in ``path``'s folder (created if needed),
    so the rename is atomic; it gets the mode a plain ``open()`` would give (mkstemp makes 0600)
    and is removed again when ``write`` fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(_default_mode())
        _fsync(tmp)
        fault_point("file", tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(
    path: Path,
    data: str | bytes | Callable[[Path], object],
    *,
    encoding: str = "utf-8",
    exclusive: bool = False,
) -> Path:
    """Write ``data`` (text, bytes or a function writing a given path) to ``path`` all at once.

    Readers see the old file or the new one, never a part. With ``exclusive`` an existing
    ``path`` is never replaced: the new file is linked into place and ``FileExistsError`` raised
    if ``path`` exists (also when it appeared meanwhile).
    """
    path = Path(path)
    if isinstance(data, str):
        text = data
        tmp = temp_file(path, lambda p: p.write_text(text, encoding=encoding))
    elif isinstance(data, bytes):
        blob = data
        tmp = temp_file(path, lambda p: p.write_bytes(blob))
    else:
        tmp = temp_file(path, data)
    try:
        if exclusive:
            os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def sha256_file(path: Path) -> str:
    """The sha256 hex digest of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """The sha256 hex digest of bytes in memory (a response body before it is saved)."""
    return hashlib.sha256(data).hexdigest()


def os_error_message(exc: OSError, path: Path | str, doing: str) -> OutputError:
    """One line for an OS error while ``doing`` something at ``path``: the path, the cause, what to do."""
    where = exc.filename or path
    cause = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EEXIST: "a part of the path is a file, not a folder",
        errno.EISDIR: "is a folder",
    }.get(exc.errno or 0, exc.strerror or str(exc) or type(exc).__name__)
    fix = (
        "free some space and run again"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT)
        else "choose a folder you can write to"
        if exc.errno in _BAD_PLACE
        else "check the folder and run again"
    )
    return OutputError(
        f"{where}: {doing} failed: {cause}; {fix} (the previous outputs are untouched)",
        exit_code=2 if exc.errno in _BAD_PLACE else 1,
    )


def _rename_exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_dir(new: Path, final: Path) -> None:
    """Put the finished folder ``new`` at ``final`` in one step; the previous ``final`` is removed after.

    Where the file system can (Linux), the two folders are exchanged atomically: a reader or a
    kill sees the old folder or the new one, never neither. Elsewhere the old folder is renamed
    aside (``.<name>.old-*``) first; :func:`output_folder` puts it back if a kill came between.
    """
    if not final.exists() and not final.is_symlink():
        os.rename(new, final)
        _fsync_dir(final.parent)
        return
    if _rename_exchange(new, final):  # ``new`` now holds the previous outputs
        _fsync_dir(final.parent)
        fault_point("exchanged", final)
        shutil.rmtree(new, ignore_errors=True)
        return
    old = final.parent / f".{final.name}.old-{os.getpid()}-{int(time.time())}"
    os.rename(final, old)
    try:
        fault_point("aside", final)
        os.rename(new, final)
    except BaseException:
        os.rename(old, final)
        raise
    _fsync_dir(final.parent)
    shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _recover_and_sweep(final: Path) -> None:
    """Undo what a killed run left: restore an old folder set aside, remove temporary folders."""
    parent = final.parent
    old = sorted(parent.glob(f".{final.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if old and not final.exists():
        os.rename(old.pop(), final)
        log.warning("restored the previous %s, set aside by an interrupted run", final)
    litter = [*old, *parent.glob(f".{final.name}.tmp-*")]
    for p in litter:
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    if litter:
        log.warning(
            "removed %d temporary folder(s) left beside %s by an interrupted run: %s",
            len(litter),
            final,
            ", ".join(sorted(p.name for p in litter)),
        )


#: The folders a killed run leaves beside an output folder NAME: its temporary folder (mkdtemp's
#: 8 characters) and a previous folder set aside (pid and time); its lock file goes with them.
_LITTER = re.compile(r"\.(?P<name>.+)\.(?:tmp-[a-z0-9_]{8}|old-\d+-\d+)")


def _sweep_siblings(final: Path) -> None:
    """Also clean up what killed runs left beside the *other* output folders of ``final``'s parent
    (another period's report): each under its own lock, skipped while a run holds it."""
    names = set()
    for p in final.parent.iterdir():
        m = _LITTER.fullmatch(p.name)
        # Only names with a temporary or set-aside folder of ours: a lone ``.x.lock`` beside
        # --out (in /tmp, say) may be another program's, and its lock is never touched.
        if m and m["name"] != final.name and p.is_dir():
            names.add(m["name"])
    for name in sorted(names):
        try:
            with _locked(final.parent / name):
                _recover_and_sweep(final.parent / name)
        except OutputError:
            continue  # another run is writing that folder now: its litter is its own


@contextmanager
def _locked(final: Path) -> Iterator[None]:
    """Hold the lock file ``.<name>.lock`` beside ``final`` for the run; OutputError when another
    run holds it. The file is removed again while still locked, so nothing stays behind; a run
    that locked a file just removed sees that its inode is gone and takes the new one."""
    lock = final.parent / f".{final.name}.lock"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise OutputError(
                f"{final}: another run (process {holder}) is writing these outputs now; "
                "wait until it has finished and run again"
            ) from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the file was removed by the run before: lock the new one
    try:
        left = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        if left:  # a finished run removes its lock file: this one was left by a killed run
            log.warning(
                "took over the lock file %s left by an interrupted run (process %s)", lock, left
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        fault_point("locked", final)
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(fd)


@contextmanager
def output_folder(final: Path, *, doing: str = "writing the outputs") -> Iterator[Path]:
    """A fresh temporary folder beside ``final`` to build the new outputs in, swapped in as one.

    One run at a time per output folder (a lock file beside it); litter of killed runs (temporary
    folders, an old folder set aside) is cleaned up first and the log says so. When the block
    fails, the temporary folder is removed and ``final`` is untouched. OS errors (permission,
    disk full, a file in the way) become one :class:`OutputError` naming the path.
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists() and not final.is_dir():
            raise OutputError(
                f"{final}: is a file, not a folder; give a folder for the outputs", exit_code=2
            )
        lock = _locked(final)
        lock.__enter__()
    except OSError as exc:
        raise os_error_message(exc, final, doing) from None
    try:
        try:
            _recover_and_sweep(final)
            _sweep_siblings(final)
            tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
            try:
                tmp.chmod(0o755)  # mkdtemp makes it private; outputs are for readers
                fault_point("tmp", tmp)
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        except OSError as exc:
            raise os_error_message(exc, final, doing) from None
        try:
            yield tmp
            fault_point("before-swap", tmp)
            swap_dir(tmp, final)
            fault_point("swapped", final)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise os_error_message(exc, final, doing) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        lock.__exit__(None, None, None)


#: Public names of the lock and the litter sweep, for outputs that are one file (``explore``).
locked_output = _locked
sweep_litter = _recover_and_sweep
