"""A red banner above the plots for a failure the run survives: a write into the run folder failed (disk full,
read-only, permission denied), the trainer paused, and the banner says what to fix before pressing Resume.
Never a modal dialog: the window stays usable while the user frees space."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget


class ErrorBanner(QFrame):
    resumeRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("error_banner")
        self.setStyleSheet("QFrame#error_banner { background: #4d1818; border: 1px solid #ef5350; border-radius: 4px; }"
                           " QFrame#error_banner QLabel { color: #ffdada; background: transparent; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.PlainText)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue training once the cause is fixed")
        self.resume_button.clicked.connect(self.resumeRequested)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.clear)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(QLabel("⛔"), 0, Qt.AlignTop)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.resume_button)
        lay.addWidget(close, 0, Qt.AlignTop)
        self.hide()

    def show_error(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def clear(self) -> None:
        self.label.clear()
        self.hide()
