"""The architecture, held by tests: the layers of ganstudio/ (its package docstring names them) and the import
contracts between packages, checked statically over the source tree; and at run time, that nothing outside
ganstudio/qt/ loads Qt and that the command line and the config load no TensorFlow."""
import ast
import pkgutil
from pathlib import Path

import pytest

import ganstudio
from tests.helpers import modules_loaded

FORBIDDEN = ("PySide6", "pyqtgraph", "superqt", "shiboken6")


def engine_modules():
    return sorted(m.name for m in pkgutil.walk_packages(ganstudio.__path__, "ganstudio.")
                  if not m.name.startswith("ganstudio.qt") and m.name != "ganstudio.__main__")


def test_engine_modules_exist():
    mods = engine_modules()
    assert {"ganstudio.config", "ganstudio.engine.trainer", "ganstudio.cli", "ganstudio.models.dcgan"} <= set(mods)


def test_engine_never_imports_qt():
    assert modules_loaded(engine_modules(), FORBIDDEN) == []


def test_cli_and_config_do_not_import_tensorflow():
    """`ganstudio --help`, `presets` and the GUI's config form must not pay for TensorFlow."""
    assert modules_loaded(["ganstudio.cli", "ganstudio.config", "ganstudio.config.presets", "ganstudio.config.options",
                           "ganstudio.engine", "ganstudio.runs", "ganstudio.data", "ganstudio.core.imaging"],
                          ("tensorflow", "keras"), timeout=120) == []


# --- Import contracts (as napari's import-linter contracts): static, over the source tree, so they cost no imports.
# Every import counts, also one inside a function: a lazy import is still a dependency.
SRC = Path(ganstudio.__file__).parent

# Bottom to top. A module may import its own package and the packages of lower layers: never a higher layer, never
# another package of its own layer. The package root `ganstudio` (its __version__) is below them all.
LAYERS = (
    ("ganstudio.core",),                                          # helpers that know nothing of GANs
    ("ganstudio.config",),                                        # what a run is: fields, presets, options
    ("ganstudio.models", "ganstudio.data", "ganstudio.runs"),     # networks, datasets, the run folder
    ("ganstudio.metrics",),                                       # quality metric and the adviser
    ("ganstudio.engine",),                                        # training
    ("ganstudio.sweeps", "ganstudio.outputs"),                    # features built on training and run folders
    ("ganstudio.studio",),                                        # the studio's Qt-free model
    ("ganstudio.qt",),                                            # the studio's window
    ("ganstudio.cli",),                                           # the command line
    ("ganstudio.__main__",),                                      # python -m ganstudio
)
# Import contracts that layers alone do not say: (name, importers, forbidden imports, allowed (importer, imported)).
CONTRACTS = [
    ("Qt only in qt/", ("ganstudio",), FORBIDDEN, set()),
    ("the CLI enters qt/ only by qt.app", ("ganstudio.cli", "ganstudio.__main__"), ("ganstudio.qt",),
     {("ganstudio.cli", "ganstudio.qt.app")}),
    # the trainer passes the preset expectations in (HealthMonitor(..., expectations=...))
    ("the adviser never imports the preset catalogue", ("ganstudio.metrics",), ("ganstudio.config.presets",), set()),
    ("widgets never import the window", ("ganstudio.qt.widgets",), ("ganstudio.qt.main_window", "ganstudio.qt.app"),
     set()),
    # the window hands a widget what to run in the background
    ("widgets never run jobs themselves", ("ganstudio.qt.widgets",),
     ("ganstudio.qt.worker", "ganstudio.outputs.export", "ganstudio.outputs.archive", "ganstudio.outputs.report"),
     set()),
]
# Known breaches still to be mended, each (importer, imported) exactly. test_no_stale_exemption fails once one is
# mended, so that its exemption goes too; any other breach fails test_import_contracts_hold.
EXEMPT: set[tuple[str, str]] = set()


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_of(name: str) -> int | None:
    """The layer index of a module name (or of a name inside a module), None for the package root."""
    for i, packages in enumerate(LAYERS):
        if _under(name, packages):
            return i
    return None


def package_of(name: str) -> str:
    return next(p for packages in LAYERS for p in packages if _under(name, (p,)))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Absolute names of every module `module` imports (relative imports resolved; `from x import y` counts as
    x and x.y, since y may be a submodule)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)
    return out


def breaches(modules: dict[str, tuple[str, bool]]) -> list[tuple[str, str, str]]:
    """modules: name -> (source, is_package). (rule, importer, imported) for each import a rule forbids."""
    bad = []
    for name, (source, is_package) in sorted(modules.items()):
        own = layer_of(name)
        if own is None:
            if name != "ganstudio":
                bad.append(("every module has a layer", name, ""))
            continue
        imports = sorted(i for i in imports_of(source, name, is_package) if _under(i, ("ganstudio",) + FORBIDDEN))
        for imp in imports:
            theirs = layer_of(imp)
            if theirs is not None and (theirs > own or theirs == own and package_of(imp) != package_of(name)):
                bad.append(("layers", name, imp))
        for rule, importers, forbidden, allowed in CONTRACTS:
            if not _under(name, importers) or (rule == "Qt only in qt/" and _under(name, ("ganstudio.qt",))):
                continue
            bad += [(rule, name, imp) for imp in imports
                    if _under(imp, forbidden) and not any(name == a and _under(imp, (b,)) for a, b in allowed)]
    return bad


def source_modules() -> dict[str, tuple[str, bool]]:
    return {module_name(p): (p.read_text(encoding="utf-8"), p.name == "__init__.py") for p in SRC.rglob("*.py")}


def _exempt(importer: str, imported: str) -> bool:
    return any(importer == a and _under(imported, (b,)) for a, b in EXEMPT)


def test_import_contracts_hold():
    mods = source_modules()
    assert {"ganstudio.engine.trainer", "ganstudio.qt.main_window", "ganstudio.metrics.fid"} <= set(mods)
    assert [f"{rule}: {a} imports {b}" if b else f"{rule}: {a}" for rule, a, b in breaches(mods)
            if not _exempt(a, b)] == []


def test_no_stale_exemption():
    used = {(a, e_b) for _, a, b in breaches(source_modules()) for e_a, e_b in EXEMPT if a == e_a and _under(b, (e_b,))}
    assert EXEMPT - used == set(), "mended: remove these from EXEMPT"


def test_every_package_has_a_layer():
    packages = {module_name(p.parent) for p in SRC.rglob("__init__.py")} | {module_name(p) for p in SRC.glob("*.py")}
    assert sorted(p for p in packages if p != "ganstudio" and layer_of(p) is None) == []



def cycles(modules: dict[str, tuple[str, bool]]) -> list[list[str]]:
    """Groups of modules that import each other in a loop (strongly connected components of the import graph)."""
    graph = {name: sorted(i for i in imports_of(source, name, is_package) if i in modules and i != name)
             for name, (source, is_package) in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = stack[stack.index(v):]
            del stack[stack.index(v):]
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    """Also a lazy import closes a loop: two modules that need each other belong in one, or share a third."""
    assert cycles(source_modules()) == []
    assert cycles({"ganstudio.data.datasets": ("def f():\n    from .folder import load_folder\n", False),
                   "ganstudio.data.folder": ("def g():\n    from .datasets import Dataset\n", False),
                   "ganstudio.data.arrays": ("import numpy\n", False)}) == [["ganstudio.data.datasets",
                                                                            "ganstudio.data.folder"]]

INIT_CODE_EXEMPT = {"ganstudio.qt.widgets"}   # the widgets' layout helpers


def code_in_init(modules: dict[str, tuple[str, bool]]) -> list[str]:
    """Packages whose __init__.py defines a function or class: it holds a docstring, imports, plain names such as
    __all__ and __version__, and at most a module __getattr__ (PEP 562: a lazy or deprecated re-export)."""
    return sorted(name for name, (source, is_package) in modules.items()
                  if is_package and name not in INIT_CODE_EXEMPT
                  and any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                          and n.name not in ("__getattr__", "__dir__") for n in ast.parse(source).body))


def test_package_code_lives_in_modules():
    assert code_in_init(source_modules()) == []
    assert code_in_init({"ganstudio.runs": ("from .folder import RunDir\n\n\ndef helper():\n    pass\n", True),
                         "ganstudio.data": ("from .datasets import Dataset\n__all__ = ['Dataset']\n", True)}) \
        == ["ganstudio.runs"]

# Each synthetic module breaks one rule; the same module with a harmless import breaks none.
CASES = [
    ("layers", "ganstudio.metrics.fid", False, "from ..engine.trainer import Trainer\n"),
    ("layers", "ganstudio.runs.watch", False, "def f():\n    import ganstudio.engine.events\n"),
    ("layers", "ganstudio.data.folder", False, "from ..engine import Control\n"),
    ("layers", "ganstudio.core.fileio", False, "from ..config import Config\n"),
    ("layers", "ganstudio.data.folder", False, "from ..runs import RunDir\n"),          # a peer of its layer
    ("layers", "ganstudio.sweeps.command", False, "from ..cli import build_parser\n"),
    ("layers", "ganstudio.engine.step", False, "from ..qt import worker\n"),
    ("layers", "ganstudio.studio.model", False, "from ..qt.worker import TrainingSession\n"),
    ("every module has a layer", "ganstudio.newpackage.thing", False, "import numpy\n"),
    ("Qt only in qt/", "ganstudio.outputs.export", False, "from PySide6.QtGui import QImage\n"),
    ("Qt only in qt/", "ganstudio.studio.model", False, "import PySide6.QtCore\n"),
    ("the CLI enters qt/ only by qt.app", "ganstudio.cli", False, "from .qt.main_window import MainWindow\n"),
    ("the adviser never imports the preset catalogue", "ganstudio.metrics.health", False,
     "def f():\n    from ..config.presets import get_preset\n"),
    ("widgets never import the window", "ganstudio.qt.widgets.loss_plot", False,
     "from ..main_window import MainWindow\n"),
    ("widgets never import the window", "ganstudio.qt.widgets", True, "from .. import main_window\n"),
    ("widgets never run jobs themselves", "ganstudio.qt.widgets.sample_grid", False, "from ..worker import Task\n"),
    ("widgets never run jobs themselves", "ganstudio.qt.widgets.checkpoints", False,
     "def f():\n    from ...outputs import export\n"),
]


@pytest.mark.parametrize("rule, name, is_package, source", CASES)
def test_each_rule_catches_a_forbidden_import(rule, name, is_package, source):
    """The checker itself: the synthetic module breaks the rule named, and a harmless import breaks nothing."""
    assert rule in {r for r, _, _ in breaches({name: (source, is_package)})}
    if rule != "every module has a layer":
        assert breaches({name: ("from ..core.imaging import make_grid\nimport numpy\n", is_package)}) == []


def test_every_rule_is_shown_failing():
    rules = {"layers", "every module has a layer"} | {c[0] for c in CONTRACTS}
    assert rules == {c[0] for c in CASES}
