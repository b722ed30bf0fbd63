"""The studio's structure (issue 31): the window is composed, not a stack of mixins, and no Qt-side code reaches
into another object's private attributes: each view or controller gets what it needs passed in."""
import ast
from pathlib import Path

import ganstudio

QT = Path(ganstudio.__file__).parent / "qt"


def private_reaches(source: str) -> list[str]:
    """`x._name` where x is not self / cls / super(): a reach into another object's privates (`Class._name`
    inside that class's own module is its own)."""
    tree = ast.parse(source)
    own = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            if isinstance(base, ast.Name) and base.id in ({"self", "cls"} | own):
                continue
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
                continue
            out.append(f"{ast.unparse(node)} (line {node.lineno})")
    return out


def test_no_qt_code_reaches_into_private_attributes():
    found = {str(p.relative_to(QT)): bad for p in sorted(QT.rglob("*.py"))
             if (bad := private_reaches(p.read_text(encoding="utf-8")))}
    assert found == {}
    assert private_reaches("def f(win):\n    win._error('x')\n") == ["win._error (line 2)"]   # the check bites


def test_the_window_is_composed_not_mixed_in():
    from PySide6.QtWidgets import QMainWindow

    from ganstudio.qt.main_window import MainWindow

    assert MainWindow.__bases__ == (QMainWindow,)
    assert not [p.name for p in QT.glob("*.py") if "Mixin" in p.read_text(encoding="utf-8")]


def test_engine_events_are_dispatched_through_handler_tables():
    """Each consumer of engine events (the run views, the Sweep tab) maps event classes to handlers for
    engine.dispatch instead of a chain of isinstance checks."""
    chains = [str(p.relative_to(QT)) for p in sorted(QT.rglob("*.py"))
              if "isinstance(ev," in p.read_text(encoding="utf-8")]
    assert chains == []
