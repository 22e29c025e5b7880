"""The package's import graph: no circle among its modules, and vocabulary modules import no stage.

Every module of ``ks_analysis`` is parsed with :mod:`ast` (never imported), and every ``import`` /
``from ... import`` of a ``ks_analysis`` module is collected, including imports inside functions
(a late import dodges a circle at run time, but the circle is still there). Relative imports are
resolved, and ``from pkg import name`` counts as an import of ``pkg.name`` when that is a module,
else of ``pkg`` itself (a package's ``__init__`` is a node of its own).

Modules loaded by name through :func:`importlib.import_module` (the reader registry in
``ks_analysis/ingest/registry.py`` and the command table of ``ks_analysis/cli.py``) are not edges:
the registry imports its readers only when a reader is looked up, after the package has finished
importing, and the readers import the registry's helpers, which is the intended direction. The
registry test below checks that those names are real modules, so the list cannot rot silently.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = "ks_analysis"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

#: Vocabulary modules: imported by every stage, so they must import no stage.
VOCABULARY = ("errors", "paths", "schema", "periods", "geo", "swedish")
#: Stage packages, in pipeline order.
STAGES = (
    "goals",
    "fetch",
    "ingest",
    "clean",
    "forecast",
    "backtest",
    "evaluate",
    "report",
    "publish",
)


def _module_name(path: Path, root: Path) -> str:
    """Dotted module name of a file under ``root`` (a package's ``__init__`` is the package)."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    """Every module of the package under ``root``, by dotted name."""
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` names, relative levels resolved."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    # In a package's __init__ one dot is the package itself; in a plain module it is its parent.
    keep = len(base) - node.level + (1 if is_package else 0)
    prefix = base[:keep]
    return ".".join(prefix + ([node.module] if node.module else []))


def _imports(path: Path, module: str, known: set[str], package: str = PACKAGE) -> set[str]:
    """The package modules that ``module`` imports anywhere in its file (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node, module, is_package)
            names = [
                f"{target}.{a.name}" if f"{target}.{a.name}" in known else target
                for a in node.names
            ]
        else:
            continue
        for name in names:
            if name != package and not name.startswith(package + "."):
                continue
            # ``import a.b.c`` of a name that is not a module (a typo would fail anyway): its package.
            while name not in known and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in known and name != module:
                found.add(name)
    return found


@cache
def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package modules it imports, for every module under ``root``."""
    mods = _modules(root)
    known = set(mods)
    package = root.name
    return {m: _imports(p, m, known, package) for m, p in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first == last), or None when the graph has none."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = grey
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt, black) == grey:
                return stack[stack.index(nxt) :] + [nxt]
            if colour.get(nxt) == white:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = black
        return None

    for start in sorted(graph):
        if colour[start] == white:
            found = visit(start)
            if found:
                return found
    return None


def test_no_import_circle() -> None:
    """No chain of imports (late imports inside functions included) leads a module back to itself."""
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("name", VOCABULARY)
def test_vocabulary_imports_no_stage(name: str) -> None:
    """errors, paths, schema, periods, geo and swedish import no stage package (nor anything in one)."""
    graph = import_graph()
    module = f"{PACKAGE}.{name}"
    assert module in graph, f"{module} is missing"
    stages = tuple(f"{PACKAGE}.{s}" for s in STAGES)
    bad = sorted(
        m for m in graph[module] if m in stages or m.startswith(tuple(s + "." for s in stages))
    )
    assert not bad, f"{module} imports stage modules: {', '.join(bad)}"


def test_swedish_imports_nothing_of_ours_but_errors() -> None:
    """The Swedish vocabulary depends on no other module of the package than errors."""
    assert import_graph()[f"{PACKAGE}.swedish"] <= {f"{PACKAGE}.errors"}


def test_reader_registry_names_real_modules() -> None:
    """The reader registry's module list (loaded by name, so not an edge above) names real modules."""
    tree = ast.parse((ROOT / "ingest" / "registry.py").read_text(encoding="utf-8"))
    lists = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "_READER_MODULES" for t in node.targets)
    ]
    assert lists, "ingest/registry.py has no _READER_MODULES list"
    names = ast.literal_eval(lists[0])
    known = _modules(ROOT)
    assert [n for n in names if f"{PACKAGE}.ingest.{n}" not in known] == []


def _write(root: Path, files: dict[str, str]) -> Path:
    """A throw-away package under ``root`` with the given files (path -> source)."""
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


def test_cycle_through_late_relative_import_is_found(tmp_path: Path) -> None:
    """A circle closed by a relative import inside a function, via ``from pkg import module``, is found."""
    root = _write(
        tmp_path / "ks_analysis",
        {
            "__init__.py": "",
            "report/__init__.py": "",
            "report/a.py": "from ks_analysis.report import b\n",
            "report/b.py": "def f():\n    from .c import g\n",
            "report/c.py": "from .. import report\nfrom ..report.a import x\n",
        },
    )
    cycle = find_cycle(import_graph(root))
    assert cycle is not None
    assert set(cycle) == {"ks_analysis.report.a", "ks_analysis.report.b", "ks_analysis.report.c"}


def test_no_cycle_when_a_module_imports_its_own_package(tmp_path: Path) -> None:
    """A submodule importing helpers from its package's ``__init__`` is no circle (the registry pattern)."""
    root = _write(
        tmp_path / "ks_analysis",
        {
            "__init__.py": "",
            "ingest/__init__.py": "def load():\n    import importlib\n    importlib.import_module('ks_analysis.ingest.r')\n",
            "ingest/r.py": "from ks_analysis.ingest import load\n",
        },
    )
    graph = import_graph(root)
    assert graph["ks_analysis.ingest.r"] == {"ks_analysis.ingest"}
    assert find_cycle(graph) is None
