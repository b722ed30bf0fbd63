"""The status bar: state, step, epoch, speed, elapsed, ETA and quality labels, refreshed at 5 Hz."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "—"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class StatusMixin:
    """A MainWindow mixin (see the module docstring); it uses the window's widgets and state."""

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
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
        sb.addPermanentWidget(self.lbl_quality)
        fm = self.fontMetrics()
        for w, sample in ((self.lbl_state, "Stopping"), (self.lbl_step, "step 000,000 / 000,000"),
                          (self.lbl_epoch, "epoch 000.00"), (self.lbl_speed, "000,000 img/s"),
                          (self.lbl_elapsed, "elapsed 00:00:00"), (self.lbl_eta, "ETA 00:00:00")):
            w.setStyleSheet("padding: 0 6px;")
            w.setMinimumWidth(fm.horizontalAdvance(sample) + 14)   # no jitter or clipping as numbers change
            sb.addPermanentWidget(w)
        sb.showMessage("Loading engine in the background…")

    def _refresh_status(self) -> None:
        if not self._status_dirty:
            return
        self._status_dirty = False
        m = self.last_metrics
        if m is None:
            for w in (self.lbl_step, self.lbl_epoch, self.lbl_speed, self.lbl_elapsed, self.lbl_eta):
                w.setText("")
            return
        total = f" / {self.total_steps:,}" if self.total_steps else ""
        self.lbl_step.setText(f"step {m.step:,}{total}")
        self.lbl_epoch.setText(f"epoch {m.epoch:.2f}")
        self.lbl_speed.setText(f"{m.images_per_sec:,.0f} img/s")
        self.lbl_elapsed.setText(f"elapsed {fmt_duration(m.wall)}")
        self.lbl_eta.setText(f"ETA {fmt_duration(self.eta_seconds())}" if self.total_steps else "")

    def eta_seconds(self) -> float | None:
        if not self.total_steps or len(self._rate) < 2 or self.last_metrics is None:
            return None
        (w0, s0), (w1, s1) = self._rate[0], self._rate[-1]
        if w1 <= w0 or s1 <= s0:
            return None
        return max(0, self.total_steps - self.last_metrics.step) * (w1 - w0) / (s1 - s0)
