"""A dismissible, coloured banner above the plots for training-health warnings (never a modal dialog).

The latest warning replaces the shown one and a counter says how many arrived since the last dismiss. A NaN
warning that the trainer answered with a rollback (RolledBack + Paused) turns red and offers "Halve learning
rates"; the window connects `halveRequested` to a live edit of g_lr and d_lr.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

KIND_TITLES = {
    "nan": "Losses became NaN/Inf",
    "d_dominance": "Discriminator dominates",
    "d_collapse": "Discriminator collapsed",
    "mode_collapse": "Possible mode collapse",
}
STYLES = {   # severity -> (background, border, text)
    "warning": ("#4a3b12", "#f0b429", "#fff3c4"),
    "error": ("#4d1818", "#ef5350", "#ffdada"),
}


@dataclass(frozen=True)
class Warning_:
    step: int
    kind: str
    message: str
    suggestion: str


class HealthBanner(QFrame):
    halveRequested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("health_banner")
        self.warnings: list[Warning_] = []       # since the last dismiss, oldest first
        self.total = 0                             # all warnings this run
        self.rolled_back: tuple[int, int] | None = None   # (step, from_step) of the last rollback
        self.severity = "warning"
        self.icon = QLabel("⚠")
        self.icon.setStyleSheet("font-size: 16px; padding: 0 4px; background: transparent;")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.text.setStyleSheet("background: transparent;")
        self.counter = QLabel()
        self.counter.setStyleSheet("background: transparent; padding: 0 6px;")
        self.halve_button = QPushButton("Halve learning rates")
        self.halve_button.setToolTip("Send g_lr / 2 and d_lr / 2 to the trainer (a live edit); then press Resume")
        self.halve_button.clicked.connect(self.halveRequested)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss these warnings")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.icon, 0, Qt.AlignTop)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.counter)
        lay.addWidget(self.halve_button)
        lay.addWidget(self.close_button, 0, Qt.AlignTop)
        self.hide()

    # -- input ------------------------------------------------------------------------------------------------
    def add_warning(self, step: int, kind: str, message: str, suggestion: str) -> None:
        self.warnings.append(Warning_(step, kind, message, suggestion))
        self.total += 1
        if kind == "nan":
            self.severity = "error"
        self._render()

    def add_rollback(self, step: int, from_step: int) -> None:
        self.rolled_back = (step, from_step)
        self.severity = "error"
        if not self.warnings or self.warnings[-1].kind != "nan":
            self.warnings.append(Warning_(from_step, "nan", f"losses became NaN/Inf at step {from_step}", ""))
            self.total += 1
        self._render()

    def dismiss(self) -> None:
        self.warnings.clear()
        self.rolled_back = None
        self.severity = "warning"
        self.hide()
        self.dismissed.emit()

    def reset(self) -> None:
        """A new run: forget everything."""
        self.total = 0
        self.dismiss()

    # -- view -------------------------------------------------------------------------------------------------
    @property
    def latest(self) -> Warning_ | None:
        return self.warnings[-1] if self.warnings else None

    def _render(self) -> None:
        w = self.latest
        if w is None:
            self.hide()
            return
        title = KIND_TITLES.get(w.kind, w.kind)
        body = f"<b>{title}</b> (step {w.step:,}): {w.message}"
        if w.kind == "nan" and self.rolled_back is not None:
            step, _ = self.rolled_back
            body += (f"<br><b>Rolled back to step {step:,} and paused;</b> lower the learning rates then Resume.")
        elif w.suggestion:
            body += f"<br><i>Suggested fix:</i> {w.suggestion}"
        self.text.setText(body)
        n = len(self.warnings)
        self.counter.setText(f"{n} warnings" if n > 1 else "")
        self.counter.setVisible(n > 1)
        self.halve_button.setVisible(w.kind == "nan" and self.rolled_back is not None)
        bg, border, fg = STYLES[self.severity]
        self.setStyleSheet(f"QFrame#health_banner {{ background: {bg}; border: 1px solid {border}; "
                           f"border-radius: 4px; }} QFrame#health_banner QLabel {{ color: {fg}; }}")
        self.show()

    def plain_text(self) -> str:
        """The banner's text without markup (tests and the status bar)."""
        from PySide6.QtGui import QTextDocument  # noqa: PLC0415

        doc = QTextDocument()
        doc.setHtml(self.text.text())
        return doc.toPlainText()
