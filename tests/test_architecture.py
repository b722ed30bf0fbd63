"""The engine never imports Qt: every module outside ganstudio/qt/ imports in a fresh interpreter without
PySide6 or pyqtgraph ending up in sys.modules; and the import contracts between the packages hold."""
import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import ganstudio

FORBIDDEN = ("PySide6", "pyqtgraph", "superqt", "shiboken6")


def engine_modules():
    return sorted(m.name for m in pkgutil.walk_packages(ganstudio.__path__, "ganstudio.")
                  if not m.name.startswith("ganstudio.qt") and m.name != "ganstudio.__main__")


def test_engine_modules_exist():
    mods = engine_modules()
    assert {"ganstudio.config", "ganstudio.engine.trainer", "ganstudio.cli", "ganstudio.models.dcgan"} <= set(mods)


def test_engine_never_imports_qt():
    code = (f"import sys\nfor m in {engine_modules()!r}: __import__(m)\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]


def test_cli_and_config_do_not_import_tensorflow():
    """`ganstudio --help`, `presets` and the GUI's config form must not pay for TensorFlow."""
    code = ("import sys, ganstudio.cli, ganstudio.config, ganstudio.config.presets, ganstudio.engine, ganstudio.runs, "
            "ganstudio.data, ganstudio.core.imaging\nprint('tensorflow' in sys.modules, 'keras' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False False", r.stderr[-2000:]


# --- Import contracts (as napari's import-linter contracts): static, over the source tree, so they cost no imports.
# Every import counts, also one inside a function: a lazy import is still a dependency.
SRC = Path(ganstudio.__file__).parent
QT_ONLY = ("ganstudio.qt",) + FORBIDDEN
# (importers, forbidden imports, allowed (importer, imported) pairs)
CONTRACTS = [
    # the CLI's `ganstudio` / `ganstudio studio` start the studio: its one way into qt/
    (("ganstudio",), QT_ONLY, {("ganstudio.cli", "ganstudio.qt.app")}),
    (("ganstudio.metrics", "ganstudio.data", "ganstudio.runs"), ("ganstudio.engine",), set()),
    (("ganstudio.qt.widgets",), ("ganstudio.qt.main_window", "ganstudio.qt.app"), set()),
]


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


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


def contract_violations(modules: dict[str, tuple[str, bool]]) -> list[str]:
    """modules: name -> (source, is_package). One line per import a contract forbids."""
    bad = []
    for name, (source, is_package) in sorted(modules.items()):
        for importers, forbidden, allowed in CONTRACTS:
            if not _under(name, importers) or (_under(name, ("ganstudio.qt",)) and "ganstudio.qt" in forbidden):
                continue
            bad += [f"{name} imports {imp}" for imp in sorted(imports_of(source, name, is_package))
                    if _under(imp, forbidden) and not any(name == a and _under(imp, (b,)) for a, b in allowed)]
    return bad


def source_modules() -> dict[str, tuple[str, bool]]:
    return {module_name(p): (p.read_text(encoding="utf-8"), p.name == "__init__.py") for p in SRC.rglob("*.py")}


def test_import_contracts_hold():
    mods = source_modules()
    assert {"ganstudio.engine.trainer", "ganstudio.qt.main_window", "ganstudio.metrics.fid"} <= set(mods)
    assert contract_violations(mods) == []


@pytest.mark.parametrize("name, source", [
    ("ganstudio.metrics.fid", "from ..engine.trainer import Trainer\n"),
    ("ganstudio.runs.watch", "def f():\n    import ganstudio.engine.events\n"),
    ("ganstudio.data.folder", "from ..engine import Control\n"),
    ("ganstudio.engine.step", "from ..qt import worker\n"),
    ("ganstudio.outputs.export", "from PySide6.QtGui import QImage\n"),
    ("ganstudio.cli", "from .qt.main_window import MainWindow\n"),
    ("ganstudio.qt.widgets.loss_plot", "from ..main_window import MainWindow\n"),
    ("ganstudio.qt.widgets", "from .. import main_window\n"),
])
def test_import_contracts_catch_a_forbidden_import(name, source):
    """The checker itself: each synthetic module breaks one contract, and a harmless import does not."""
    is_package = name == "ganstudio.qt.widgets"
    assert len(contract_violations({name: (source, is_package)})) >= 1
    assert contract_violations({name: ("from ..imaging import make_grid\nimport numpy\n", is_package)}) == []
