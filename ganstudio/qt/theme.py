"""One theme for the frame, the form and the plots: dark (the default), light, or following the OS colour scheme
(QStyleHints.colorScheme, Qt >= 6.5, re-applied when the OS switches). View ▸ Theme chooses; QSettings keeps it.

Qt widgets follow the application palette (Fusion style); pyqtgraph draws with its own colours, so existing plots
are restyled in place (background, axes, titles) and new ones pick the colours up from pg.setConfigOptions.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from .widgets.image_label import ImageLabel
from .widgets.loss_plot import GRID_COLOUR

MODES = {"dark": "Dark", "light": "Light", "system": "Follow the system"}
DEFAULT_MODE = "dark"
KEY = "view/theme"
# pyqtgraph colours per theme. grid: the opaque grid the loss plot draws (what the foreground at 20 % alpha looks
# like on the background); legend: the backing behind legends.
PLOT = {"dark": ("#1b1d23", "#c8ccd4"), "light": ("#ffffff", "#30343b")}
GRID = {"dark": GRID_COLOUR, "light": "#dcdfe4"}
LEGEND = {"dark": (27, 29, 35, 210), "light": (255, 255, 255, 220)}
_DARK = {
    QPalette.Window: "#24272d", QPalette.WindowText: "#dfe2e7", QPalette.Base: "#1b1d23",
    QPalette.AlternateBase: "#2a2e35", QPalette.Text: "#dfe2e7", QPalette.Button: "#2e323a",
    QPalette.ButtonText: "#dfe2e7", QPalette.BrightText: "#ff6b6b", QPalette.Highlight: "#3d7bd9",
    QPalette.HighlightedText: "#ffffff", QPalette.ToolTipBase: "#2e323a", QPalette.ToolTipText: "#dfe2e7",
    QPalette.PlaceholderText: "#8a9099", QPalette.Link: "#6ab0ff", QPalette.Light: "#3a3f48",
    QPalette.Midlight: "#33373f", QPalette.Mid: "#8a9099", QPalette.Dark: "#15171b", QPalette.Shadow: "#0b0c0e",
}
_DARK_DISABLED = {QPalette.WindowText: "#737983", QPalette.Text: "#737983", QPalette.ButtonText: "#737983",
                  QPalette.Highlight: "#3a3f48"}


def palette(theme: str) -> QPalette:
    if theme == "light":
        pal = QApplication.style().standardPalette()
        pal.setColor(QPalette.Mid, QColor("#7c828c"))    # secondary text ("color: palette(mid)") stays readable
        return pal
    pal = QPalette()
    for role, color in _DARK.items():
        pal.setColor(role, QColor(color))
    for role, color in _DARK_DISABLED.items():
        pal.setColor(QPalette.Disabled, role, QColor(color))
    return pal


def system_theme() -> str:
    """'light' when the OS says so (Qt >= 6.5), else the dark default (also when the OS does not say)."""
    scheme = getattr(QGuiApplication.styleHints(), "colorScheme", lambda: None)()
    return "light" if scheme == Qt.ColorScheme.Light else "dark"


def restyle_plots(theme: str) -> int:
    """Recolour every live pyqtgraph view and image well (and set the defaults for new plots); returns how many
    views. An axis drawn in a theme's grid colour (its grid lines use the axis pen) gets the new grid colour,
    any other axis the new foreground, so each plot keeps its own choices."""
    bg, fg = PLOT[theme]
    grids = {QColor(c).name() for c in GRID.values()}
    pg.setConfigOptions(background=bg, foreground=fg)
    views = [w for w in QApplication.allWidgets() if isinstance(w, pg.GraphicsView)]
    for view in views:
        view.setBackground(bg)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(GRID[theme] if item.pen().color().name() in grids else fg)
                item.setTextPen(fg)
            elif isinstance(item, pg.LegendItem):
                item.setBrush(pg.mkBrush(*LEGEND[theme]))
                item.setLabelTextColor(fg)
            elif isinstance(item, pg.LabelItem):
                item.opts["color"] = fg
                item.setText(item.text)
    for w in QApplication.allWidgets():
        if isinstance(w, ImageLabel):
            w.setStyleSheet(f"background: {bg}; color: {fg};")
    return len(views)


class Theme(QObject):
    changed = Signal(str)     # the theme in effect: dark | light

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        mode = settings.value(KEY, DEFAULT_MODE, str)
        self.mode = mode if mode in MODES else DEFAULT_MODE
        self.current = ""
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):   # a bound slot: Qt drops the connection with this object
            hints.colorSchemeChanged.connect(self._scheme_changed)

    def _scheme_changed(self, *_) -> None:
        if self.mode == "system":
            self.apply()

    def effective(self) -> str:
        return system_theme() if self.mode == "system" else self.mode

    def set_mode(self, mode: str) -> str:
        if mode not in MODES:
            raise ValueError(f"theme {mode!r}: use one of {', '.join(MODES)}")
        self.mode = mode
        self.settings.setValue(KEY, mode)
        return self.apply()

    def apply(self) -> str:
        theme = self.effective()
        app = QApplication.instance()
        app.setPalette(palette(theme))
        for w in QApplication.allWidgets():   # style sheets resolve palette(...) once: re-resolve them
            sheet = w.styleSheet()
            if "palette(" in sheet:
                w.setStyleSheet(sheet)
        restyle_plots(theme)
        self.current = theme
        self.changed.emit(theme)
        return theme
