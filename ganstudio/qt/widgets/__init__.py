"""Reusable widgets of the studio window (plots, sample grid, hyperparameter form, panels), and the small layout
helpers they share (hbox, vbox, combo_box, fill_with_panes)."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QComboBox, QHBoxLayout, QLayout, QSplitter, QVBoxLayout, QWidget


def _fill(lay: QBoxLayout, items: tuple) -> QBoxLayout:
    for item in items:
        if isinstance(item, int):
            lay.addStretch(item)
            continue
        w, stretch = item if isinstance(item, tuple) else (item, 0)
        (lay.addLayout if isinstance(w, QLayout) else lay.addWidget)(w, stretch)
    return lay


def combo_box(*items: tuple[str, object]) -> QComboBox:
    """A combo box of (text, data) items."""
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    return box


def hbox(*items) -> QHBoxLayout:
    """A row of items: each a widget, a layout, (either, stretch factor), or an int (stretchable space)."""
    return _fill(QHBoxLayout(), items)


def vbox(owner: QWidget, *items, margin: int | None = None) -> QVBoxLayout:
    """Lay `owner` out as a column of items (as in hbox); `margin` on every side, else the style's."""
    lay = QVBoxLayout(owner)
    if margin is not None:
        lay.setContentsMargins(margin, margin, margin, margin)
    return _fill(lay, items)


def fill_with_panes(owner: QWidget, left: QWidget, right: QWidget, sizes: tuple[int, int]) -> QSplitter:
    """Lay `owner` out as a left | right splitter, the shape shared by the Dataset and Runs tabs."""
    split = QSplitter(Qt.Horizontal)
    split.addWidget(left)
    split.addWidget(right)
    split.setSizes(list(sizes))
    vbox(owner, split, margin=4)
    return split
