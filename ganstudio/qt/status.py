"""The status bar: state, step, epoch, speed, elapsed, ETA and quality labels, drawn from the studio model at
5 Hz (only when its numbers changed: no per-step relayout)."""
from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar

from ..studio import State, StudioModel

REFRESH_MS = 200


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "—"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class StatusView:
    def __init__(self, bar: QStatusBar, model: StudioModel) -> None:
        self.bar = bar
        self.model = model
        self.dirty = False
        self.lbl_state = QLabel()
        self.lbl_step = QLabel()
        self.lbl_epoch = QLabel()
        self.lbl_speed = QLabel()
        self.lbl_elapsed = QLabel()
        self.lbl_eta = QLabel()
        self.lbl_quality = QLabel()
        self.lbl_quality.setStyleSheet("padding: 0 6px;")
        self.lbl_quality.setToolTip("Latest quality metric and the best so far with its step (Fréchet distance, lower is "
                                    "better)")
        bar.addPermanentWidget(self.lbl_quality)
        fm = bar.fontMetrics()
        for w, sample in ((self.lbl_state, "Stopping"), (self.lbl_step, "step 000,000 / 000,000"),
                          (self.lbl_epoch, "epoch 000.00"), (self.lbl_speed, "000,000 img/s"),
                          (self.lbl_elapsed, "elapsed 00:00:00"), (self.lbl_eta, "ETA 00:00:00")):
            w.setStyleSheet("padding: 0 6px;")
            w.setMinimumWidth(fm.horizontalAdvance(sample) + 14)   # no jitter or clipping as numbers change
            bar.addPermanentWidget(w)
        bar.showMessage("Loading engine in the background…")
        model.metrics_changed.connect(self.mark_dirty)
        model.state_changed.connect(self._state_changed)
        self.timer = QTimer(bar)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def mark_dirty(self) -> None:
        self.dirty = True

    def _state_changed(self, state: State) -> None:
        self.lbl_state.setText(state.capitalize())
        self.dirty = True

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        self.bar.showMessage(text, timeout_ms)

    def refresh(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        m, total_steps = self.model.last_metrics, self.model.total_steps
        if m is None:
            for w in (self.lbl_step, self.lbl_epoch, self.lbl_speed, self.lbl_elapsed, self.lbl_eta):
                w.setText("")
            return
        total = f" / {total_steps:,}" if total_steps else ""
        self.lbl_step.setText(f"step {m.step:,}{total}")
        self.lbl_epoch.setText(f"epoch {m.epoch:.2f}")
        self.lbl_speed.setText(f"{m.images_per_sec:,.0f} img/s")
        self.lbl_elapsed.setText(f"elapsed {fmt_duration(m.wall)}")
        self.lbl_eta.setText(f"ETA {fmt_duration(self.model.eta_seconds())}" if total_steps else "")
