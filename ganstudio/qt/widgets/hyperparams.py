"""The hyperparameter form, generated from `ganstudio.config.FIELDS` (one widget per field, grouped like the
config). Adding a field to the config adds it here with no GUI change.

While a run is active, only `live` fields stay editable; their edits go out as `liveEdit(name, value)` and the
window forwards them to `Control.edit`, so the trainer applies them between steps on its own thread.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QMenu, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from ...config import FIELDS, GROUP_TITLES, Config, FieldInfo
from ...data import BUILTIN
from ...core.errors import ConfigError
from ...config.presets import PRESETS

INT_LIMIT = 2**31 - 1  # QSpinBox is int32
ERROR_STYLE = "border: 1px solid #e57373;"
LOCKED_TIP = "Locked while training: stop the run to change it (only live fields can change mid-run)."


class SciSpinBox(QDoubleSpinBox):
    """A float spin box that shows '%g' (1e-04, 0.999) instead of fixed decimals; log fields step x2 / /2."""

    _partial = re.compile(r"^[+-]?(\d+\.?\d*|\.\d*)?([eE][+-]?\d*)?$")

    def __init__(self, log: bool = False, step: float | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.log = log
        self.setDecimals(15)             # the value is not rounded; the text is formatted by textFromValue
        self.setSingleStep(step or 0.01)
        self.setKeyboardTracking(False)  # typing "0.0005" must not send 0, 0.0, 0.000 ... as live edits

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        s = text.strip()
        try:
            v = float(s)
        except ValueError:
            state = QValidator.Intermediate if self._partial.match(s) else QValidator.Invalid
            return state, text, pos
        ok = math.isfinite(v) and self.minimum() <= v <= self.maximum()
        return (QValidator.Acceptable if ok else QValidator.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        if not self.log:
            return super().stepBy(steps)
        v = self.value() or 1e-4
        self.setValue(min(self.maximum(), max(self.minimum(), v * 2.0 ** steps)))


class DatasetEdit(QWidget):
    """Editable combo (built-in names) plus a browse button for .npz/.npy files."""

    textChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(list(BUILTIN))
        self.combo.setInsertPolicy(QComboBox.NoInsert)
        self.browse = QToolButton()
        self.browse.setText("…")
        self.browse.setToolTip("Choose an image array file (.npz/.npy) or a folder of images")
        self.browse.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.browse)
        menu.addAction("Array file…", self._browse)
        menu.addAction("Image folder…", self._browse_folder)
        self.browse.setMenu(menu)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.combo, 1)
        lay.addWidget(self.browse)
        # Injectable for tests: returns a path or "" when cancelled.
        self.choose_file: Callable[[], str] = lambda: QFileDialog.getOpenFileName(
            self, "Choose dataset", "", "Image arrays (*.npz *.npy)")[0]
        self.choose_folder: Callable[[], str] = lambda: QFileDialog.getExistingDirectory(self, "Choose image folder")
        self.combo.currentTextChanged.connect(self.textChanged)

    def _browse(self) -> None:
        path = self.choose_file()
        if path:
            self.setText(path)

    def _browse_folder(self) -> None:
        path = self.choose_folder()
        if path:
            self.setText(path)

    def text(self) -> str:
        return self.combo.currentText().strip()

    def setText(self, text: str) -> None:
        self.combo.setCurrentText(text)


class HyperparamPanel(QWidget):
    liveEdit = Signal(str, object)    # (field name, parsed value) while a run is active

    def __init__(self, config: Config | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widgets: dict[str, QWidget] = {}
        self.infos: dict[str, FieldInfo] = {f.name: f for f in FIELDS}
        self._labels: dict[str, QLabel] = {}
        self._active = False
        self._loading = False
        self._preset = "tutorial"
        self._n_images: int | None = None   # the loaded dataset's size: the guidance quotes the nearest measured one
        self.error_text = ""

        lay = QVBoxLayout(self)
        self.preset_combo = QComboBox()
        for name in PRESETS:
            self.preset_combo.addItem(name, name)
        self._set_tooltips()
        self.preset_desc = QLabel()
        self.preset_desc.setWordWrap(True)
        self.preset_desc.setStyleSheet("color: palette(mid);")
        pre = QFormLayout()
        pre.addRow("Preset", self.preset_combo)
        lay.addLayout(pre)
        lay.addWidget(self.preset_desc)

        for group, title in GROUP_TITLES.items():
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
            for info in FIELDS:
                if info.group != group:
                    continue
                w = self._make_widget(info)
                label = QLabel(info.name.replace("_", " ") + (" •" if info.live else ""))
                kind = ", ".join(filter(None, (info.type.__name__, info.range_text())))
                tip = f"<b>{info.name}</b> ({kind})<br>{info.help}"
                if info.live:
                    tip += "<br><i>Live: can change while training.</i>"
                label.setToolTip(tip)
                w.setToolTip(tip)
                w.setProperty("baseTip", tip)
                self.widgets[info.name] = w
                self._labels[info.name] = label
                form.addRow(label, w)
            lay.addWidget(box)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #e57373;")
        self.error_label.hide()
        lay.addWidget(self.error_label)
        legend = QLabel("• live: editable while training")
        legend.setStyleSheet("color: palette(mid);")
        lay.addWidget(legend)
        lay.addStretch(1)

        self.preset_combo.currentIndexChanged.connect(self._preset_picked)
        self.set_config(config or PRESETS["tutorial"].config())

    # -- widget factory ---------------------------------------------------------------------------------------
    def _make_widget(self, info: FieldInfo) -> QWidget:
        on_change = lambda *_: self._changed(info.name)  # noqa: E731
        if info.name == "dataset":
            w = DatasetEdit()
            w.textChanged.connect(on_change)
        elif info.choices:
            w = QComboBox()
            for c in info.choices:
                w.addItem(str(c), c)
            w.currentIndexChanged.connect(on_change)
        elif info.type is bool:
            w = QCheckBox()
            w.toggled.connect(on_change)
        elif info.type is int:
            w = QSpinBox()
            w.setRange(int(max(info.min if info.min is not None else -INT_LIMIT, -INT_LIMIT)),
                       int(min(info.max if info.max is not None else INT_LIMIT, INT_LIMIT)))
            w.setSingleStep(int(info.step or 1))
            w.setKeyboardTracking(False)
            w.setGroupSeparatorShown(True)
            w.valueChanged.connect(on_change)
        elif info.type is float:
            w = SciSpinBox(log=info.log, step=info.step)
            w.setRange(info.min if info.min is not None else -1e300, info.max if info.max is not None else 1e300)
            w.valueChanged.connect(on_change)
        elif info.type is str:
            w = QLineEdit()
            w.editingFinished.connect(on_change)
        else:  # pragma: no cover - a new field type must get a widget (magicgui's raise_on_unknown lesson)
            raise TypeError(f"no widget for config field {info.name!r} of type {info.type.__name__}")
        return w

    def value(self, name: str) -> Any:
        w = self.widgets[name]
        if isinstance(w, (DatasetEdit, QLineEdit)):
            return w.text().strip()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        return w.value()

    def set_value(self, name: str, value: Any) -> None:
        """Set a widget programmatically (no live edit is sent)."""
        w = self.widgets[name]
        self._loading = True
        try:
            if isinstance(w, (DatasetEdit, QLineEdit)):
                w.setText(str(value))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(value)))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            else:
                w.setValue(value)
        finally:
            self._loading = False

    def set_dataset_size(self, n_images: int | None) -> None:
        """The dataset the run will train on has this many images: say what each preset reached on the nearest
        measured size."""
        self._n_images = n_images
        self._show_guidance()
        self._set_tooltips()

    def _set_tooltips(self) -> None:
        for i in range(self.preset_combo.count()):
            self.preset_combo.setItemData(i, PRESETS[self.preset_combo.itemData(i)].guidance(self._n_images),
                                          Qt.ToolTipRole)

    def _show_guidance(self) -> None:
        self.preset_desc.setText(PRESETS[self._preset].guidance(self._n_images) if self._preset in PRESETS
                                 else f"Custom configuration ({self._preset})")

    # -- config in/out ----------------------------------------------------------------------------------------
    def set_config(self, config: Config) -> None:
        self._preset = config.preset
        self._loading = True
        try:
            i = self.preset_combo.findData(config.preset)
            if i >= 0:
                self.preset_combo.setCurrentIndex(i)
            self._show_guidance()
            for info, value in config.items():
                self.set_value(info.name, value)
        finally:
            self._loading = False
        self.validate()

    def values(self) -> dict[str, Any]:
        return {name: self.value(name) for name in self.widgets}

    def current_config(self) -> Config:
        """The form as a validated Config; raises ConfigError naming the bad field."""
        return Config(preset=self._preset).with_updates(self.values())

    def validate(self) -> Config | None:
        try:
            cfg = self.current_config()
        except ConfigError as e:
            self._show_error(str(e), e.field)
            return None
        self._show_error("")
        return cfg

    def apply_changes(self, changes: dict[str, tuple[Any, Any]]) -> None:
        """Reflect changes the trainer confirmed (ConfigChanged) without echoing them back as edits."""
        for name, (_, new) in changes.items():
            if name in self.widgets:
                self.set_value(name, new)
        self._show_error("")

    # -- running state ----------------------------------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        """Lock non-live fields while a run exists; live ones stay editable and send edits."""
        self._active = active
        self.preset_combo.setEnabled(not active)
        self.preset_combo.setToolTip(LOCKED_TIP if active else "Load a named configuration into the form")
        for name, w in self.widgets.items():
            live = self.infos[name].live
            w.setEnabled(live or not active)
            base = w.property("baseTip")
            w.setToolTip(base if live or not active else f"{base}<br><b>{LOCKED_TIP}</b>")
            self._labels[name].setEnabled(live or not active)

    @property
    def active(self) -> bool:
        return self._active

    # -- slots ------------------------------------------------------------------------------------------------
    def _preset_picked(self, index: int) -> None:
        if self._loading or index < 0:
            return
        name = self.preset_combo.itemData(index)
        dataset = self.value("dataset")  # the data choice is the user's, not the preset's
        cfg = PRESETS[name].config()
        try:
            cfg = cfg.with_updates({"dataset": dataset})
        except ConfigError:
            pass
        self.set_config(cfg)

    def _changed(self, name: str) -> None:
        if self._loading:
            return
        if not self._active:
            self.validate()
            return
        info = self.infos[name]
        try:
            value = info.parse(self.value(name))
            info.check(value)
        except ConfigError as e:
            self._show_error(str(e), e.field)
            return
        self._show_error("")
        self.liveEdit.emit(name, value)

    def _show_error(self, text: str, field: str | None = None) -> None:
        self.error_text = text
        for name, w in self.widgets.items():
            w.setStyleSheet(ERROR_STYLE if name == field else "")
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
