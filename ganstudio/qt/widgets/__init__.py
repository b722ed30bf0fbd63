"""Reusable widgets of the studio window (plots, sample grid, hyperparameter form)."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget


def fill_with_panes(owner: QWidget, left: QWidget, right: QWidget, sizes: tuple[int, int]) -> QSplitter:
    """Lay `owner` out as a left | right splitter, the shape shared by the Dataset and Runs tabs."""
    split = QSplitter(Qt.Horizontal)
    split.addWidget(left)
    split.addWidget(right)
    split.setSizes(list(sizes))
    lay = QVBoxLayout(owner)
    lay.setContentsMargins(4, 4, 4, 4)
    lay.addWidget(split)
    return split
