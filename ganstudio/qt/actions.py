"""How the studio makes its actions: text, shortcut, tooltip with the shortcut, status tip, slot."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence


def make_action(parent: QObject, text: str, slot: Callable[[], object], shortcut=None, tip: str = "") -> QAction:
    a = QAction(text, parent)
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    a.setToolTip(f"{tip or text} ({a.shortcut().toString()})" if shortcut is not None else (tip or text))
    a.setStatusTip(tip or text)
    a.triggered.connect(lambda *_: slot())
    return a
