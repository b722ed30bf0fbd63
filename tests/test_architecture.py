"""The engine never imports Qt: every module outside ganstudio/qt/ imports in a fresh interpreter without
PySide6 or pyqtgraph ending up in sys.modules."""
import pkgutil
import subprocess
import sys

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
    code = ("import sys, ganstudio.cli, ganstudio.config, ganstudio.presets, ganstudio.engine, ganstudio.runs, "
            "ganstudio.data, ganstudio.imaging\nprint('tensorflow' in sys.modules, 'keras' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False False", r.stderr[-2000:]
