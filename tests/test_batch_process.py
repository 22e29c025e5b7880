"""The command's own process settings (collector, Arrow allocator) reach it and its kernels only."""

from __future__ import annotations

import os
import subprocess
import sys

from ks_analysis import _gc

PROBE = (
    "import sys; from ks_analysis import cli; "
    "cli.main = lambda argv=None: print(__import__('pyarrow').default_memory_pool().backend_name) or 0; "
    "sys.exit(cli.entry())"
)


def _probe(env: dict[str, str]) -> str:
    run = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    return run.stdout.strip()


def test_the_command_uses_the_c_librarys_allocator_for_arrow() -> None:
    env = {k: v for k, v in os.environ.items() if k != _gc.ARROW_POOL_ENV}
    assert _probe(env) == "system"


def test_an_allocator_named_by_the_environment_is_kept() -> None:
    assert _probe({**os.environ, _gc.ARROW_POOL_ENV: "mimalloc"}) == "mimalloc"


def test_calling_main_in_a_process_leaves_its_environment_alone() -> None:
    from ks_analysis.cli import main

    before = os.environ.get(_gc.ARROW_POOL_ENV)
    assert main(["goals", "--format", "json"]) == 0
    assert os.environ.get(_gc.ARROW_POOL_ENV) == before
