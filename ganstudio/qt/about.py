"""Help ▸ About (versions, device, precision, with Copy for bug reports) and Help ▸ Keyboard shortcuts.

Versions come from the installed packages' metadata, so About never imports TensorFlow on the GUI thread.
The shortcut list is read from the window's own actions, so it cannot drift from them.
"""
from __future__ import annotations

import platform
import sys
from importlib import metadata

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from .. import __version__


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_rows(device: str = "", precision: str = "") -> list[tuple[str, str]]:
    """(label, value) rows of the About box, also its plain-text copy."""
    return [
        ("ganstudio", __version__),
        ("TensorFlow", _dist_version("tensorflow")),
        ("Keras", _dist_version("keras")),
        ("Qt / PySide6", f"{qVersion()} / {PySide6.__version__}"),
        ("pyqtgraph", _dist_version("pyqtgraph")),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("Platform", platform.platform()),
        ("Device", device or "not known yet (the engine loads in the background)"),
        ("Precision", precision or "'auto' is resolved when training starts"),
    ]


def about_text(rows: list[tuple[str, str]]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in rows)


class AboutDialog(QDialog):
    def __init__(self, device: str = "", precision: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About ganstudio")
        self.rows = about_rows(device, precision)
        icon = QLabel()
        icon.setPixmap(QGuiApplication.windowIcon().pixmap(64, 64))
        title = QLabel(f"<h2>ganstudio {__version__}</h2>A desktop studio for training GANs on TensorFlow/Keras.")
        title.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(icon, 0, Qt.AlignTop)
        head.addWidget(title, 1)
        self.details = QLabel("<table>" + "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>"
                                                  for k, v in self.rows) + "</table>")
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.details.setWordWrap(True)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy these versions as text, e.g. for a bug report")
        self.copy_button.clicked.connect(self.copy)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ActionRole)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.details)
        lay.addWidget(buttons)

    def copy(self) -> str:
        text = about_text(self.rows)
        QGuiApplication.clipboard().setText(text)
        self.copy_button.setText("Copied")
        return text


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(action, key sequence) for every action that has a shortcut, in the native text ('Ctrl+R')."""
    rows = {}
    for a in actions:
        keys = ", ".join(s.toString(QKeySequence.NativeText) for s in a.shortcuts() if not s.isEmpty())
        if keys:
            rows[a.text().replace("&", "").rstrip("…").rstrip(".")] = keys
    return sorted(rows.items(), key=lambda kv: kv[0].lower())


class ShortcutsDialog(QDialog):
    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        for r, (name, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))
            self.table.setItem(r, 1, QTableWidgetItem(keys))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self.resize(420, min(640, 80 + 30 * len(rows)))
