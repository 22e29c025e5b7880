"""A papermill engine for notebooks run in a kernel that is already started and known ready.

papermill's own engine (``nbclient``) connects a new kernel client for every notebook and waits
until the kernel is ready: a ``kernel_info`` request and its reply, one IOPub message to show
that the client's subscription is live, and then jupyter_client's ``wait_for_ready`` drains
the IOPub channel until it has been quiet for 0.2 s. That last wait costs 0.2 s per notebook
whatever the kernel does: measured, two notebooks per report and six for ``report --year``
(1.2 s of a 5.5 s run). The drained messages are stale ones that nbclient would ignore anyway
(it keeps only the IOPub messages whose parent is the request it sent).

This engine keeps every step but that last one: the kernel must answer ``kernel_info`` and
the client must have received an IOPub message before the first cell is sent, so no cell
output can be lost. It is used only for a kernel manager handed in
(:class:`ks_analysis.publish.notebooks.KernelSession`); a notebook run in a kernel of its own
is connected exactly as papermill does it. Registered with papermill's engine registry, the
extension point papermill documents for this.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_core.utils import ensure_async, run_sync
from nbclient.util import run_hook
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

__all__ = ["ENGINE_NAME", "register"]

ENGINE_NAME = "ks-analysis"
#: How long one ``kernel_info`` request waits for its reply, and then for an IOPub message,
#: before it is sent again (jupyter_client's own values).
_SHELL_WAIT_S, _IOPUB_WAIT_S = 1.0, 0.2


async def _ready(kc: Any, timeout: float) -> None:
    """Wait until the kernel answers ``kernel_info`` and ``kc`` receives IOPub messages."""
    deadline = time.monotonic() + timeout
    while True:
        kc.kernel_info()
        try:
            msg = await ensure_async(kc.shell_channel.get_msg(timeout=_SHELL_WAIT_S))
        except Empty:
            msg = None
        if msg is not None and msg["msg_type"] == "kernel_info_reply":
            try:
                await ensure_async(kc.iopub_channel.get_msg(timeout=_IOPUB_WAIT_S))
            except Empty:
                pass  # not subscribed yet: ask again
            else:
                handle = getattr(kc, "_handle_kernel_info_reply", None)
                if handle is not None:
                    handle(msg)
                return
        if not await ensure_async(kc.is_alive()):
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


class _Client(PapermillNotebookClient):  # type: ignore[misc]
    """papermill's client, connected to a started kernel without the quiet-IOPub wait."""

    async def async_start_new_kernel_client(self) -> Any:
        if self.owns_km:
            return await super().async_start_new_kernel_client()
        try:
            self.kc = self.km.client()
            await ensure_async(self.kc.start_channels())
            await _ready(self.kc, self.startup_timeout)
        except Exception as e:
            self.log.error("Error occurred while starting new kernel client: %s", e)
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        await run_hook(self.on_notebook_start, notebook=self.nb)
        return self.kc

    # The base class binds its synchronous wrapper to its own coroutine function.
    start_new_kernel_client = run_sync(async_start_new_kernel_client)


class _Engine(NBClientEngine):  # type: ignore[misc]
    """papermill's ``nbclient`` engine with :class:`_Client`."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        # papermill's own argument handling (papermill.engines.NBClientEngine)
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        return _Client(nb_man, **final_kwargs).execute()


def register() -> str:
    """Register the engine with papermill (again is harmless); its name."""
    papermill_engines.register(ENGINE_NAME, _Engine)
    return ENGINE_NAME
