"""The Latent tab: interpolate between two fixed-noise samples and move one along random latent directions.

The generator is restored from the run's latest checkpoint with `ganstudio.export.load_generator` inside a
background `Task` (it builds its own float32 model), so TensorFlow never runs on the GUI thread and the
trainer's models are never touched. That is only safe when no training session is alive (Keras cannot build
a second model while the trainer runs, and load_generator sets the process-global dtype policy): the window
calls `set_source(run, reason)` and a non-empty reason disables the tab with that explanation.

Directions are random orthonormal vectors (seeded QR of a Gaussian matrix): PCA over random z ~ N(0, I) has
no preferred axes, so it would be just as arbitrary and more expensive.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QSizePolicy, QSlider, QSpinBox, QVBoxLayout, QWidget)

from ...imaging import make_grid, to_pil

N_DIRECTIONS = 4
SLIDER_RANGE = 30          # slider units; value / 10 = distance along the unit direction
DIRECTION_SEED = 1234
DEBOUNCE_MS = 120


# -- pure numpy --------------------------------------------------------------------------------------------
def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, np.float64)[:, None]
    return ((1.0 - t) * a[None, :] + t * b[None, :]).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation of the vectors (norms interpolated linearly); falls back to lerp when parallel."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if na == 0 or nb == 0:
        return lerp(a, b, t)
    ua, ub = a64 / na, b64 / nb
    omega = np.arccos(np.clip(np.dot(ua, ub), -1.0, 1.0))
    if omega < 1e-6:
        return lerp(a, b, t)
    t = np.asarray(t, np.float64)[:, None]
    so = np.sin(omega)
    dirs = (np.sin((1.0 - t) * omega) / so) * ua[None, :] + (np.sin(t * omega) / so) * ub[None, :]
    return (dirs * ((1.0 - t) * na + t * nb)).astype(np.float32)


def interpolate(a: np.ndarray, b: np.ndarray, steps: int, mode: str = "slerp") -> np.ndarray:
    """(steps, dim) latents from a to b inclusive; the endpoints are exactly a and b."""
    t = np.linspace(0.0, 1.0, steps)
    z = slerp(a, b, t) if mode == "slerp" else lerp(a, b, t)
    z[0], z[-1] = a, b
    return z


def orthonormal_directions(dim: int, k: int, seed: int = DIRECTION_SEED) -> np.ndarray:
    """(k, dim) random orthonormal rows (k <= dim), reproducible for a seed."""
    k = min(k, dim)
    g = np.random.default_rng(seed).standard_normal((dim, k))
    q, r = np.linalg.qr(g)
    q *= np.sign(np.diag(r))[None, :]       # unique up to sign otherwise
    return q.T.astype(np.float32)


def strip_image(images: np.ndarray) -> np.ndarray:
    """One row mosaic of (N, H, W, C) images, as exported to PNG."""
    return make_grid(images, rows=1)


def save_strip_png(images: np.ndarray, path: str | Path, scale: int = 1) -> Path:
    path = Path(path)
    to_pil(strip_image(images), scale).save(path, format="PNG")
    return path


def save_strip_gif(images: np.ndarray, path: str | Path, scale: int = 4, ms: int = 120) -> Path:
    """One frame per strip image, looping (bounces back through the strip in the viewer's loop)."""
    path = Path(path)
    frames = [to_pil(img, scale) for img in images]
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return path


def to_qimage(img: np.ndarray) -> QImage:
    img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    if img.ndim == 2 or img.shape[-1] == 1:
        g = np.ascontiguousarray(img.reshape(h, w))
        return QImage(g.data, w, h, w, QImage.Format_Grayscale8).copy()
    return QImage(img.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class ImageLabel(QLabel):
    """Shows a uint8 image scaled by the largest integer factor that fits (nearest neighbour, crisp pixels)."""

    clickedAt = Signal(float, float, object)   # x, y in image pixels, mouse button

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(placeholder, parent)
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(64, 48)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setStyleSheet("background: #1e1e1e; color: #888;")
        self.array: np.ndarray | None = None
        self._scale = 1

    def set_array(self, img: np.ndarray | None) -> None:
        self.array = img
        self._rescale()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self.array is None:
            self.setPixmap(QPixmap())
            return
        h, w = self.array.shape[:2]
        self._scale = max(1, min((self.width() - 4) // max(w, 1), (self.height() - 4) // max(h, 1)))
        pm = QPixmap.fromImage(to_qimage(self.array))
        self.setPixmap(pm.scaled(w * self._scale, h * self._scale, Qt.KeepAspectRatio, Qt.FastTransformation))

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.array is None:
            return
        h, w = self.array.shape[:2]
        s = self._scale
        x0 = (self.width() - w * s) / 2
        y0 = (self.height() - h * s) / 2
        p = event.position()
        self.clickedAt.emit((p.x() - x0) / s, (p.y() - y0) / s, event.button())


class LatentExplorer(QWidget):
    """Generation requests go to `tasks` (the window's TaskSet) as one 'export-latent' Task at a time; a newer
    request made meanwhile runs when it ends (only the latest)."""

    generated = Signal(object)     # the result dict, after the views updated
    failed = Signal(str)
    exported = Signal(object)      # a written Path

    def __init__(self, tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.run_path: Path | None = None
        self.reason = "Open or train a run first."
        self.restored = None                     # export.Restored, cached per (run, checkpoint step)
        self._restored_key: tuple | None = None
        self.noise: np.ndarray | None = None     # the working noise (fixed noise, or re-rolled)
        self.reroll_seed = 0
        self.result: dict[str, Any] | None = None
        self._task = None
        self._pending: dict[str, Any] | None = None
        # Which checkpoint to explore: the window passes the Checkpoints dock's selection; None = the latest.
        self.checkpoint_step: Callable[[], int | None] = lambda: None
        self.choose_save_path: Callable[[str, str, str], str] = lambda title, start, filt: \
            QFileDialog.getSaveFileName(self, title, start, filt)[0]

        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setStyleSheet("padding: 4px;")

        # left: the noise grid (click: left = A, right = B) and the chosen sample moved along directions
        self.grid_label = ImageLabel("No generator loaded")
        self.grid_label.setToolTip("Samples of the current noise, row-major indices from 0.\n"
                                   "Left-click picks A, right-click picks B.")
        self.grid_label.clickedAt.connect(self._grid_clicked)
        self.moved_label = ImageLabel("")
        self.moved_label.setToolTip("Left: the chosen sample; right: moved along the directions")

        self.idx_a = QSpinBox()
        self.idx_b = QSpinBox()
        self.steps = QSpinBox()
        self.steps.setRange(2, 64)
        self.steps.setValue(10)
        self.mode = QComboBox()
        self.mode.addItem("Slerp (spherical)", "slerp")
        self.mode.addItem("Linear", "linear")
        self.idx_move = QSpinBox()
        for s in (self.idx_a, self.idx_b, self.idx_move):
            s.setRange(0, 0)
        self.idx_b.setToolTip("Index of the end sample in the noise grid")
        self.idx_a.setToolTip("Index of the start sample in the noise grid")

        self.btn_generate = QPushButton("Generate")
        self.btn_generate.setToolTip("Load the generator of the checkpoint selected in the Checkpoints dock (else the "
                                     "latest) in the background, and generate")
        self.btn_reroll = QPushButton("Re-roll noise")
        self.btn_reroll.setToolTip("Draw new random noise (seeded) instead of the run's fixed noise")
        self.btn_fixed = QPushButton("Fixed noise")
        self.btn_fixed.setToolTip("Back to the run's fixed noise (the training grid)")
        self.btn_png = QPushButton("Export PNG…")
        self.btn_gif = QPushButton("Export GIF…")

        pick = QGroupBox("Interpolation")
        f = QFormLayout(pick)
        ab = QHBoxLayout()
        ab.addWidget(QLabel("A"))
        ab.addWidget(self.idx_a)
        ab.addWidget(QLabel("B"))
        ab.addWidget(self.idx_b)
        f.addRow("Samples", ab)
        f.addRow("Steps", self.steps)
        f.addRow("Path", self.mode)

        move = QGroupBox("Directions (random orthonormal, seeded)")
        g = QGridLayout(move)
        g.addWidget(QLabel("Sample"), 0, 0)
        g.addWidget(self.idx_move, 0, 1)
        self.sliders: list[QSlider] = []
        self.slider_values: list[QLabel] = []
        for k in range(N_DIRECTIONS):
            s = QSlider(Qt.Horizontal)
            s.setRange(-SLIDER_RANGE, SLIDER_RANGE)
            s.setValue(0)
            s.setToolTip(f"Move the sample along direction {k + 1} (−3…+3 units; |z| is about √noise_dim)")
            v = QLabel("+0.0")
            v.setMinimumWidth(36)
            g.addWidget(QLabel(f"d{k + 1}"), k + 1, 0)
            g.addWidget(s, k + 1, 1)
            g.addWidget(v, k + 1, 2)
            self.sliders.append(s)
            self.slider_values.append(v)
        self.btn_zero = QPushButton("Reset")
        g.addWidget(self.btn_zero, N_DIRECTIONS + 1, 1)

        buttons = QHBoxLayout()
        for b in (self.btn_generate, self.btn_reroll, self.btn_fixed):
            buttons.addWidget(b)
        exports = QHBoxLayout()
        for b in (self.btn_png, self.btn_gif):
            exports.addWidget(b)

        controls = QVBoxLayout()
        controls.addLayout(buttons)
        controls.addWidget(pick)
        controls.addWidget(move)
        controls.addLayout(exports)
        controls.addStretch(1)
        side = QWidget()
        side.setLayout(controls)
        side.setMaximumWidth(360)

        self.strip_label = ImageLabel("The interpolation strip appears here")
        self.strip_label.setMinimumHeight(80)
        self.strip_title = QLabel("Interpolation A → B")
        self.grid_title = QLabel("Noise grid (left-click: A, right-click: B)")
        self.moved_title = QLabel("Chosen sample → moved")

        views = QGridLayout()
        views.addWidget(self.grid_title, 0, 0)
        views.addWidget(self.moved_title, 0, 1)
        views.addWidget(self.grid_label, 1, 0)
        views.addWidget(self.moved_label, 1, 1)
        views.addWidget(self.strip_title, 2, 0, 1, 2)
        views.addWidget(self.strip_label, 3, 0, 1, 2)
        views.setRowStretch(1, 3)
        views.setRowStretch(3, 1)

        body = QHBoxLayout()
        body.addWidget(side)
        body.addLayout(views, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.info)
        lay.addLayout(body, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.generate())
        self.btn_generate.clicked.connect(lambda: self.generate())
        self.btn_reroll.clicked.connect(self.reroll)
        self.btn_fixed.clicked.connect(self.use_fixed_noise)
        self.btn_png.clicked.connect(lambda: self.export_dialog("png"))
        self.btn_gif.clicked.connect(lambda: self.export_dialog("gif"))
        self.btn_zero.clicked.connect(self.reset_sliders)
        for w in (self.idx_a, self.idx_b, self.steps, self.idx_move):
            w.valueChanged.connect(self._changed)
        self.mode.currentIndexChanged.connect(self._changed)
        for k, s in enumerate(self.sliders):
            s.valueChanged.connect(lambda v, k=k: (self.slider_values[k].setText(f"{v / 10:+.1f}"), self._changed()))
        self._update_enabled()

    # -- source -----------------------------------------------------------------------------------------------
    def set_source(self, run_path: Path | None, reason: str = "") -> None:
        """The run to explore, or a reason why not now (a session is alive, nothing opened)."""
        if run_path != self.run_path:
            self.restored, self._restored_key = None, None
            self.noise, self.result = None, None
            self.reroll_seed = 0
            for lbl in (self.grid_label, self.moved_label, self.strip_label):
                lbl.set_array(None)
        self.run_path = run_path
        self.reason = reason if reason else ("" if run_path is not None else "Open or train a run first.")
        self._update_enabled()

    def forget_model(self) -> None:
        """Drop the cached generator (a new session is about to build models, or the run changed)."""
        self.restored, self._restored_key = None, None

    @property
    def available(self) -> bool:
        return self.run_path is not None and not self.reason

    @property
    def busy(self) -> bool:
        return self._task is not None

    def _update_enabled(self) -> None:
        ok = self.available
        for w in (self.btn_generate, self.btn_reroll, self.btn_fixed):
            w.setEnabled(ok)
        has = self.result is not None
        self.btn_png.setEnabled(has)
        self.btn_gif.setEnabled(has)
        if not ok:
            self.info.setText(f"<b>Latent explorer unavailable:</b> {self.reason}")
        elif self.result is None:
            self.info.setText(f"Run {self.run_path.name}: press Generate to load the generator from the selected "
                              f"(or latest) checkpoint, in the background.")

    # -- parameters -------------------------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        return {"a": self.idx_a.value(), "b": self.idx_b.value(), "steps": self.steps.value(),
                "mode": self.mode.currentData(), "move": self.idx_move.value(),
                "offsets": [s.value() / 10 for s in self.sliders]}

    def reset_sliders(self) -> None:
        for s in self.sliders:
            s.blockSignals(True)
            s.setValue(0)
            s.blockSignals(False)
            self.slider_values[self.sliders.index(s)].setText("+0.0")
        self._changed()

    def _changed(self, *_: object) -> None:
        if self.result is not None and self.available:
            self._debounce.start()    # regenerate once the user stops dragging

    def _grid_clicked(self, x: float, y: float, button) -> None:
        if self.result is None or self.noise is None:
            return
        imgs = self.result["grid_images"]
        n, h, w = imgs.shape[:3]
        from ...imaging import grid_shape  # noqa: PLC0415

        rows, cols = grid_shape(n, 0)
        c, r = int((x - 2) // (w + 2)), int((y - 2) // (h + 2))
        if not (0 <= c < cols and 0 <= r < rows) or r * cols + c >= n:
            return
        i = r * cols + c
        (self.idx_b if button == Qt.RightButton else self.idx_a).setValue(i)

    def reroll(self) -> None:
        self.reroll_seed += 1
        self.generate(reroll=self.reroll_seed)

    def use_fixed_noise(self) -> None:
        self.noise = None
        self.generate()

    # -- generation -------------------------------------------------------------------------------------------
    def generate(self, reroll: int | None = None) -> bool:
        """Queue a generation in a background Task. Returns False (with the reason shown) if unavailable."""
        if not self.available:
            self.failed.emit(self.reason)
            return False
        from ...engine.checkpoints import list_checkpoints  # noqa: PLC0415

        ckpts = list_checkpoints(self.run_path / "checkpoints")
        if not ckpts:
            msg = f"{self.run_path.name} has no checkpoint yet: save one (or let training reach checkpoint_every)"
            self.info.setText(msg)
            self.failed.emit(msg)
            return False
        wanted = self.checkpoint_step()
        step = wanted if wanted in {c.step for c in ckpts} else ckpts[-1].step
        req = {**self.params(), "key": (str(self.run_path), step), "reroll": reroll}
        if self._task is not None or self.tasks.busy("export"):
            self._pending = req           # only the newest request matters
            if self._task is None:
                QTimer.singleShot(200, self._run_pending)   # another export holds the model builder: retry
            return True
        self._start(req)
        return True

    def _run_pending(self) -> None:
        req, self._pending = self._pending, None
        if req is None:
            return
        if self.tasks.busy("export") and self._task is None:
            self._pending = req
            QTimer.singleShot(200, self._run_pending)
            return
        if self.available:
            self._start(req)

    def _start(self, req: dict[str, Any]) -> None:
        from ..worker import Task  # noqa: PLC0415

        restored = self.restored if self._restored_key == req["key"] else None
        noise = self.noise
        run = Path(req["key"][0])
        shape_hint = None if noise is None else noise.shape

        def job(_progress):
            from ... import export as ex  # noqa: PLC0415 - TensorFlow loads here, in the task thread

            r = restored if restored is not None else ex.load_generator(run, req["key"][1])
            z = r.fixed_noise if noise is None else noise
            if req["reroll"] is not None:
                shape = shape_hint or r.fixed_noise.shape
                z = np.random.default_rng(10_000 + req["reroll"]).standard_normal(shape).astype(np.float32)
            n = len(z)
            labels = ex.class_labels(r.config, n)
            a, b, i = (min(req[k], n - 1) for k in ("a", "b", "move"))
            grid_images = ex.generate(r.generator, z, labels)
            zs = interpolate(z[a], z[b], req["steps"], req["mode"])
            strip_labels = None if labels is None else np.full(len(zs), labels[a], np.int32)
            strip = ex.generate(r.generator, zs, strip_labels)
            dirs = orthonormal_directions(z.shape[1], N_DIRECTIONS)
            moved_z = z[i] + np.asarray(req["offsets"][:len(dirs)], np.float32) @ dirs
            pair_labels = None if labels is None else np.full(2, labels[i], np.int32)
            moved = ex.generate(r.generator, np.stack([z[i], moved_z]), pair_labels)
            return {"restored": r, "key": req["key"], "noise": z, "grid_images": grid_images, "strip": strip,
                    "strip_z": zs, "moved": moved, "moved_z": moved_z, "params": req}

        task = Task(job, name="export-latent", parent=self)
        task.done.connect(self._done)
        task.failed.connect(self._failed)
        task.finished.connect(self._task_finished)
        self._task = task
        self.btn_generate.setEnabled(False)
        self.info.setText(f"Generating from {run.name} (step {req['key'][1]:,}) …")
        self.tasks.start(task)

    def _task_finished(self) -> None:
        self._task = None
        self._update_enabled()
        if self._pending is not None:
            QTimer.singleShot(0, self._run_pending)   # after the TaskSet has forgotten this task

    def _done(self, res: dict[str, Any]) -> None:
        if res["key"][0] != str(self.run_path):
            return        # the run changed while generating
        self.restored, self._restored_key = res["restored"], res["key"]
        self.noise = res["noise"]
        self.result = res
        n = len(self.noise)
        for s in (self.idx_a, self.idx_b, self.idx_move):
            s.blockSignals(True)
            s.setRange(0, n - 1)
            s.blockSignals(False)
        self.grid_label.set_array(make_grid(res["grid_images"]))
        self.moved_label.set_array(make_grid(res["moved"], rows=1))
        self.strip_label.set_array(strip_image(res["strip"]))
        p = res["params"]
        src = f"re-rolled noise #{p['reroll']}" if p["reroll"] is not None else \
            ("fixed noise" if self.reroll_seed == 0 or self._noise_is_fixed() else "re-rolled noise")
        self.info.setText(f"{self.run_path.name}, checkpoint step {res['key'][1]:,}, {src}: {n} samples, "
                          f"noise_dim {self.noise.shape[1]}")
        self.strip_title.setText(f"Interpolation {p['a']} → {p['b']} ({p['mode']}, {p['steps']} steps)")
        self._update_enabled()
        self.generated.emit(res)

    def _noise_is_fixed(self) -> bool:
        r = self.restored
        return r is not None and self.noise is not None and self.noise.shape == r.fixed_noise.shape and \
            np.array_equal(self.noise, r.fixed_noise)

    def _failed(self, exc: object) -> None:
        from ..worker import describe_error  # noqa: PLC0415

        text = f"Latent explorer: {describe_error(exc)}"  # type: ignore[arg-type]
        self.info.setText(text)
        self.failed.emit(text)

    # -- export -----------------------------------------------------------------------------------------------
    def default_path(self, fmt: str) -> Path:
        step = self.result["key"][1] if self.result else 0
        p = self.result["params"] if self.result else {"a": 0, "b": 0}
        return (self.run_path or Path.cwd()) / f"latent_step{step:06d}_{p['a']}-{p['b']}.{fmt}"

    def export_dialog(self, fmt: str) -> Path | None:
        if self.result is None:
            return None
        filt = "PNG image (*.png)" if fmt == "png" else "GIF animation (*.gif)"
        path = self.choose_save_path(f"Export interpolation strip ({fmt.upper()})", str(self.default_path(fmt)),
                                     filt)
        if not path:
            return None
        if not path.lower().endswith(f".{fmt}"):
            path += f".{fmt}"
        return self.export(fmt, path)

    def export(self, fmt: str, path: str | Path | None = None) -> Path | None:
        if self.result is None:
            return None
        target = Path(path) if path else self.default_path(fmt)
        try:
            out = save_strip_png(self.result["strip"], target) if fmt == "png" else \
                save_strip_gif(self.result["strip"], target)
        except OSError as e:
            self.failed.emit(f"Cannot write {target}: {e}")
            return None
        self.info.setText(f"Exported {out}")
        self.exported.emit(out)
        return out
