"""Run notebooks with papermill and render the shareable HTML with nbconvert, atomically.

Parameters are validated in Python before any kernel starts (names, types, values). The report
folder is built in a temporary folder beside its final place and moved into place only when
every notebook ran and the HTML rendered; a failure leaves the previous report untouched.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ks_analysis.errors import NotebookError, ParameterError
from ks_analysis.paths import PACKAGE_DIR

__all__ = [
    "KERNEL_NAME",
    "ensure_kernel",
    "kernel_arguments",
    "notebook_parameters",
    "validate_parameters",
    "execute_notebook",
    "KernelSession",
    "render_html",
    "replace_dir_atomically",
    "CELL_TIMEOUT_S",
]

log = logging.getLogger(__name__)

#: The one kernel name of every notebook: ipykernel's own ``python3``, which jupyter_client starts
#: with the running interpreter (it replaces the spec's ``python`` with ``sys.executable``), so
#: JupyterLab, ``jupyter nbconvert --execute`` and the runner all use the project's environment.
KERNEL_NAME = "python3"
#: Set for the kernels the runner starts (they inherit this process's environment).
KERNEL_ENV = {"MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
CELL_TIMEOUT_S = 600
TEMPLATES = PACKAGE_DIR / "templates"
_TYPES = {"str": str, "int": int, "float": float, "bool": bool}
#: Exceptions that mean the input was bad (exit 2), not that the run failed (exit 1).
BAD_INPUT_ERRORS = {
    "DataFileError",
    "ParameterError",
    "PeriodError",
    "CatalogueError",
    "UnknownNameError",
    "KsAnalysisError",
}


def ensure_kernel() -> str:
    """Prepare the environment the runner's kernels inherit (headless plots, no warnings); return the kernel name."""
    for key, value in KERNEL_ENV.items():
        os.environ[key] = value
    return KERNEL_NAME


def kernel_arguments() -> list[str]:
    """Command-line options for the kernels: their log level follows this process's root logger.

    With ``ks-analysis -q`` (root level ERROR) ipykernel's own log is silenced: its warnings, such
    as "Kernel is running over TCP without encryption" (the kernel listens on loopback only, and
    every message is signed with the connection file's key, readable only by this user), and the
    "KeyboardInterrupt caught in kernel" it logs when it is stopped after the run. A failing cell
    still fails the run with its own message (:class:`NotebookError`), whatever the kernel logs.
    """
    level = logging.getLogger().getEffectiveLevel()
    kernel = logging.CRITICAL if level >= logging.ERROR else max(level, logging.WARNING)
    # A number: traitlets' log_level takes 0-50 or DEBUG/INFO/WARN/ERROR/CRITICAL, not "WARNING".
    return [f"--IPKernelApp.log_level={kernel}"]


def notebook_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its ``parameters`` cell: name -> {type, default, help}."""
    import papermill as pm

    return {
        name: {"type": p["inferred_type_name"], "default": p["default"], "help": p["help"]}
        for name, p in pm.inspect_notebook(str(notebook)).items()
    }


def validate_parameters(
    notebook: Path, params: dict[str, Any], checks: dict[str, Callable[[Any], None]] | None = None
) -> dict[str, Any]:
    """Check names and types of ``params`` against the notebook's parameters cell, then value checks.

    Raises:
        ParameterError: for an unknown name (with the known ones), a wrong type (``0665`` must be
            the string ``"0665"``, never the number 665) or a value a check refuses.
    """
    declared = notebook_parameters(notebook)
    if not declared:
        raise ParameterError(
            f"{notebook.name}: has no cell tagged 'parameters'; tag the first cell 'parameters' in JupyterLab"
        )
    for name, value in params.items():
        if name not in declared:
            raise ParameterError(
                f"{notebook.name}: unknown parameter {name!r}; known: {', '.join(sorted(declared))}"
            )
        tname = str(declared[name]["type"])
        want = _TYPES.get(tname)
        if want is None:
            continue
        ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ParameterError(
                f"{notebook.name}: parameter {name!r} must be {tname}, got {type(value).__name__} {value!r}"
                + (
                    " (pass municipality codes as text, e.g. '0665')"
                    if name == "municipality"
                    else ""
                )
            )
    for name, check in (checks or {}).items():
        if name in params:
            check(params[name])
    return params


def _failed_cell(nb_path: Path) -> tuple[int | None, str]:
    """(cell number among code cells, 1-based, and the exception's last line) of an executed notebook."""
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    code_no = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code_no += 1
        if "injected-parameters" in cell.metadata.get("tags", []):
            code_no -= 1
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return code_no, f"{out.get('ename')}: {out.get('evalue')}"
    return None, "the notebook failed"


#: What a prestarted kernel runs while it starts: the package's notebook API (pandas and the
#: forecasting with it), which every report notebook's first cell imports, and what its cells
#: load later (pyplot). It leaves no name behind in the notebooks' namespace.
PRELOAD = (
    "import ks_analysis.notebook_api as _ks_preload; _ks_preload.prepare_kernel(); del _ks_preload"
)


class KernelSession:
    """One kernel for several notebooks, run one after another (a context manager).

    A period's report and data-quality notebooks, and the periods of ``report --year``, share
    it: the kernel starts once, imports the package once, and reads the raw folder once
    (:mod:`ks_analysis.ingest.memo`). Each notebook still assigns every name it uses (its
    parameters cell first). After a failed notebook the kernel is restarted before the next one,
    so nothing of a half-run notebook reaches another. The kernel is shut down on exit.
    """

    def __init__(self) -> None:
        self.km: Any = None
        self._dirty = False
        self._cwd: Path | None = None
        self._side: Any = None  # a client of this process's own, for :meth:`send_quietly`
        self._side_lock = threading.Lock()

    def __enter__(self) -> KernelSession:
        from nbclient import NotebookClient

        ensure_kernel()
        # nbclient's own kernel manager class, unstarted: the first notebook starts it the way
        # papermill starts any kernel (its options, working folder and environment).
        self.km = NotebookClient(
            nbformat_v4_empty(), kernel_name=KERNEL_NAME
        ).create_kernel_manager()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Shut the kernel down (if it was started)."""
        with self._side_lock:
            if self._side is not None:
                self._side.stop_channels()
                self._side = None
        if self.km is not None and self.km.has_kernel:
            from jupyter_core.utils import run_sync

            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # a kernel that died already needs no shutting down
                log.debug("kernel shutdown failed", exc_info=True)
        self.km = None
        self._cwd = None

    def prestart(self, cwd: Path, preload: str = PRELOAD) -> None:
        """Start the kernel now, in ``cwd``, importing ``preload`` as it starts, so that it boots
        while this process still checks its inputs (the first notebook then finds it ready).

        The kernel is started as papermill would start it (same options, same working folder);
        a notebook run in another folder gets a fresh kernel. A failed import only costs the
        head start: the notebook's own import cell then fails with its own message.
        """
        if self.km is None or self.km.has_kernel:
            return
        from jupyter_core.utils import run_sync

        args = [*kernel_arguments(), f"--IPKernelApp.exec_lines={preload}"]
        run_sync(self.km.start_kernel)(extra_arguments=args, cwd=str(cwd))
        self._cwd = cwd

    def send_quietly(self, code: str) -> bool:
        """Queue ``code`` in the started kernel, ahead of the next notebook, without waiting.

        It runs silently (not in any notebook, its output seen by nobody) when the kernel is
        ready, before the cells sent after it (of the notebook run next, or the next cells of
        the one running), which wait for it. Only for work whose failure costs nothing but its
        head start, such as drawing charts a notebook would otherwise draw itself. False where
        no kernel is started or the message cannot be sent.
        """
        if self.km is None or not self.km.has_kernel:
            return False
        try:
            with self._side_lock:  # called from the thread that builds models ahead, too
                if self._side is None:
                    from jupyter_client.blocking import BlockingKernelClient

                    side = BlockingKernelClient()
                    side.load_connection_info(self.km.get_connection_info())
                    side.start_channels(
                        shell=True, iopub=False, stdin=False, hb=False, control=False
                    )
                    self._side = side
                self._side.execute(code, silent=True, store_history=False, allow_stdin=False)
        except Exception:  # the notebook does the work itself
            log.debug("could not queue work in the kernel", exc_info=True)
            return False
        return True

    def execute(
        self, notebook: Path, output: Path, params: dict[str, Any], *, cwd: Path | None = None
    ) -> Path:
        """:func:`execute_notebook` in this session's kernel."""
        if self._dirty or (self._cwd is not None and cwd is not None and cwd != self._cwd):
            # a fresh kernel, started as the first one was (a restarted one could miss the
            # start timeout)
            self.close()
            self.__enter__()
        self._dirty = True
        out = execute_notebook(notebook, output, params, cwd=cwd, km=self.km)
        self._dirty = False
        return out


def nbformat_v4_empty() -> Any:
    """An empty notebook node (what a kernel manager is created for)."""
    import nbformat

    return nbformat.v4.new_notebook()


def execute_notebook(
    notebook: Path,
    output: Path,
    params: dict[str, Any],
    *,
    cwd: Path | None = None,
    timeout: int = CELL_TIMEOUT_S,
    km: Any = None,
) -> Path:
    """Execute ``notebook`` with papermill into ``output`` (in kernel ``km`` if given, see
    :class:`KernelSession`; else in a kernel of its own).

    Raises:
        NotebookError: naming the notebook, the failing cell (code cells counted from 1, the
            injected-parameters cell not counted) and the exception's last line.
    """
    import papermill as pm

    from ks_analysis.publish.engine import register

    kernel = ensure_kernel()
    started = time.monotonic()
    log.info("running %s", notebook.name)
    try:
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=params,
            kernel_name=kernel,
            cwd=str(cwd) if cwd else None,
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout,
            request_save_on_cell_execute=False,
            extra_arguments=kernel_arguments(),
            # a started kernel is connected to without papermill's quiet-IOPub wait
            **({"km": km, "engine_name": register()} if km is not None else {}),
        )
    except pm.PapermillExecutionError as exc:
        cell, err = (
            _failed_cell(output)
            if output.exists()
            else (exc.exec_count, f"{exc.ename}: {exc.evalue}")
        )
        failure = NotebookError(notebook.name, cell, err)
        if exc.ename in BAD_INPUT_ERRORS:
            failure.exit_code = 2  # bad input found inside the notebook is still bad input
        raise failure from None
    except Exception as exc:  # dead kernel, timeout, missing kernel
        first = str(exc).splitlines()[0] if str(exc) else ""
        if type(exc).__name__ == "DeadKernelError" or "Kernel died" in first:
            first += (
                "; the notebook's kernel process ended (killed, or out of memory): "
                "nothing was replaced, run again"
            )
        raise NotebookError(notebook.name, None, f"{type(exc).__name__}: {first}") from None
    log.info("ran %s in %.1f s", notebook.name, time.monotonic() - started)
    return output


def _strip_for_readers(nb: Any) -> Any:
    """A copy of an executed notebook with only what readers should see: HTML and image outputs."""
    out = copy.deepcopy(nb)
    keep = []
    for cell in out.cells:
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags or cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.get("outputs", []):
            if o.get("output_type") in ("display_data", "execute_result"):
                data = {
                    k: v
                    for k, v in o.get("data", {}).items()
                    if k in ("text/html", "image/png", "image/svg+xml")
                }
                if data:
                    outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
        if outputs:
            cell.outputs = outputs
            cell.source = ""
            keep.append(cell)
    out.cells = keep
    return out


def render_html(executed: Path, html_path: Path, title: str) -> Path:
    """Render an executed notebook to one self-contained HTML file: no code, prompts, warnings or parameters."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    nb = _strip_for_readers(nb)
    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="ks_report", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    resources = {"ks_css": (TEMPLATES / "report.css").read_text(encoding="utf-8")}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def replace_dir_atomically(new: Path, final: Path) -> None:
    """Move the finished folder ``new`` to ``final``; the previous ``final`` is kept until the move succeeded."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}-{int(time.time())}"
        os.replace(final, old)
    try:
        os.replace(new, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
