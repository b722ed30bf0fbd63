"""A dismissible, coloured banner above the plots for the adviser's warnings (never a modal dialog).

The latest warning replaces the shown one (title, message with its numbers, likely cause) and a counter says how
many arrived since the last dismiss. Each of its remedies is a button; clicking one emits `remedyRequested(Remedy)`
and the window applies it (the policy: studio/remedy.py). A NaN warning that the trainer answered with a rollback
(RolledBack + Paused) turns the banner red.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from ...metrics.advice import HealthWarning, Remedy
from ...metrics.health import TITLES

STYLES = {   # severity -> (background, border, text)
    "warning": ("#4a3b12", "#f0b429", "#fff3c4"),
    "error": ("#4d1818", "#ef5350", "#ffdada"),
}
ERRORS = ("nan", "divergence")


class HealthBanner(QFrame):
    remedyRequested = Signal(object)   # a metrics.advice.Remedy

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("health_banner")
        self.warnings: list[HealthWarning] = []     # since the last dismiss, oldest first
        self.total = 0                                # all warnings this run
        self.rolled_back: tuple[int, int] | None = None   # (step, from_step) of the last rollback
        self.severity = "warning"
        self.remedy_buttons: list[QPushButton] = []
        self.icon = QLabel("⚠")
        self.icon.setStyleSheet("font-size: 16px; padding: 0 4px; background: transparent;")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.text.setStyleSheet("background: transparent;")
        self.counter = QLabel()
        self.counter.setStyleSheet("background: transparent; padding: 0 6px;")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss these warnings")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        self.buttons = QHBoxLayout()
        self.buttons.setContentsMargins(0, 0, 0, 0)
        self.buttons.addStretch(1)
        body = QVBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.text)
        body.addLayout(self.buttons)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.icon, 0, Qt.AlignTop)
        lay.addLayout(body, 1)
        lay.addWidget(self.counter, 0, Qt.AlignTop)
        lay.addWidget(self.close_button, 0, Qt.AlignTop)
        self.hide()

    # -- input ------------------------------------------------------------------------------------------------
    def add_warning(self, warning: HealthWarning) -> None:
        self.warnings.append(warning)
        self.total += 1
        if warning.kind in ERRORS:
            self.severity = "error"
        self._render()

    def add_rollback(self, step: int, from_step: int) -> None:
        self.rolled_back = (step, from_step)
        self.severity = "error"
        if not self.warnings or self.warnings[-1].kind not in ("nan", "divergence"):
            self.warnings.append(HealthWarning("nan", from_step, f"losses became NaN/Inf at step {from_step}"))
            self.total += 1
        self._render()

    def dismiss(self) -> None:
        self.warnings.clear()
        self.rolled_back = None
        self.severity = "warning"
        self.hide()

    def reset(self) -> None:
        """A new run: forget everything."""
        self.total = 0
        self.dismiss()

    # -- view -------------------------------------------------------------------------------------------------
    @property
    def latest(self) -> HealthWarning | None:
        return self.warnings[-1] if self.warnings else None

    def _render(self) -> None:
        w = self.latest
        if w is None:
            self.hide()
            return
        body = f"<b>{escape(TITLES.get(w.kind, w.kind))}</b> (step {w.step:,}): {escape(w.message)}"
        if w.kind in ("nan", "divergence") and self.rolled_back is not None:
            body += f"<br><b>Rolled back to step {self.rolled_back[0]:,} and paused;</b> apply a fix, then Resume."
        if w.cause:
            body += f"<br><i>Likely cause:</i> {escape(w.cause)}"
        self.text.setText(body)
        self._set_remedies(w.remedies)
        n = len(self.warnings)
        self.counter.setText(f"{n} warnings" if n > 1 else "")
        self.counter.setVisible(n > 1)
        bg, border, fg = STYLES[self.severity]
        self.setStyleSheet(f"QFrame#health_banner {{ background: {bg}; border: 1px solid {border}; "
                           f"border-radius: 4px; }} QFrame#health_banner QLabel {{ color: {fg}; }}")
        self.show()

    def _set_remedies(self, remedies: tuple[Remedy, ...]) -> None:
        for b in self.remedy_buttons:
            self.buttons.removeWidget(b)
            b.deleteLater()
        self.remedy_buttons = []
        for i, r in enumerate(remedies):
            b = QPushButton(r.label)
            b.setToolTip(f"Same as: {r.command()}")
            b.clicked.connect(lambda _=False, r=r: self.remedyRequested.emit(r))
            self.buttons.insertWidget(i, b)
            self.remedy_buttons.append(b)

    def plain_text(self) -> str:
        """The banner's text without markup (tests and the status bar)."""
        from PySide6.QtGui import QTextDocument  # noqa: PLC0415

        doc = QTextDocument()
        doc.setHtml(self.text.text())
        return doc.toPlainText()
