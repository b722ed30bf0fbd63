"""The Latent tab: interpolate between two noise samples and move one along random latent directions.

Two sources of images, one flow: while a training session is alive (running or paused) every update is one
'generate' request on the trainer's Control, answered between steps on the training thread by a `Generated`
event (the live generator, or its EMA); no second model is built. Without a session the generator of the
selected (or latest) checkpoint is restored in a background `Task`. The latent math (interpolation,
directions, one batch per update) is Qt-free in `ganstudio.outputs.latent`.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget)
from superqt.utils import qdebounced, signals_blocked

from ...core.errors import GanStudioError
from ...core.imaging import grid_index, make_grid
from . import hbox
from .image_label import ImageLabel
from ...runs import RunDir
from ...config.sampling import grid_labels
from ...outputs.latent import (N_DIRECTIONS, reroll_noise, save_strip_gif, save_strip_png, split_views, strip_image,
                       view_batch)

SLIDER_RANGE = 30          # slider units; value / 10 = distance along the unit direction
DEBOUNCE_MS = 120
_tags = itertools.count(1)


class LatentExplorer(QWidget):
    """One generation at a time: a 'generate' request to the live trainer (`live` set by the window while a
    session is alive) or an 'export-latent' Task in the window's TaskSet; a newer update asked for meanwhile
    runs when it ends (only the latest)."""

    generated = Signal(object)     # the result dict, after the views updated
    failed = Signal(str)
    exported = Signal(object)      # a written Path

    def __init__(self, tasks, parent: QWidget | None = None, *, make_task: Callable[..., Any],
                 load_generator: Callable[[Path, int], Any], generate: Callable[..., np.ndarray],
                 describe_error: Callable[[BaseException], str]) -> None:
        """The window hands in what runs in the background, so the widget imports neither the worker nor the exports:
        make_task(job, name=, parent=) -> a Task for `tasks` (a TaskSet); load_generator(run, step) and
        generate(generator, noise, labels) (outputs.export's, called in the task thread); describe_error(exc)."""
        super().__init__(parent)
        self.tasks = tasks
        self.make_task, self.describe_error = make_task, describe_error
        self.restore_generator, self.generate_images = load_generator, generate
        self.run_path: Path | None = None
        self.reason = "Open or train a run first."
        self.restored = None                     # export.Restored, cached per (run, checkpoint step)
        self._restored_key: tuple | None = None
        # Sends a 'generate' request to the running trainer (Control.request's keywords); None: no session.
        self.live: Callable[..., None] | None = None
        self.fixed: tuple[np.ndarray, np.ndarray | None] | None = None   # the source's fixed noise and labels
        self.noise: np.ndarray | None = None     # the working noise (fixed noise, or re-rolled)
        self.reroll_seed = 0
        self.result: dict[str, Any] | None = None
        self._task = None
        self._live_req: dict[str, Any] | None = None   # the request awaiting its Generated event
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
        self.ema = QCheckBox("EMA weights")
        self.ema.setChecked(True)
        self.ema.setToolTip("With ema_decay > 0: generate with the averaged generator (as samples and exports do); "
                            "off: the raw generator being trained. Live runs only.")
        self.btn_reroll = QPushButton("Re-roll noise")
        self.btn_reroll.setToolTip("Draw new random noise (seeded) instead of the run's fixed noise")
        self.btn_fixed = QPushButton("Fixed noise")
        self.btn_fixed.setToolTip("Back to the run's fixed noise (the training grid)")
        self.btn_png = QPushButton("Export PNG…")
        self.btn_gif = QPushButton("Export GIF…")

        pick = QGroupBox("Interpolation")
        f = QFormLayout(pick)
        f.addRow("Samples", hbox(QLabel("A"), self.idx_a, QLabel("B"), self.idx_b))
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
        buttons.addWidget(self.ema)
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

        self._regenerate = qdebounced(self.generate, timeout=DEBOUNCE_MS)   # parented to self
        self.btn_generate.clicked.connect(lambda: self.generate())
        self.btn_reroll.clicked.connect(self.reroll)
        self.btn_fixed.clicked.connect(self.use_fixed_noise)
        self.btn_png.clicked.connect(lambda: self.export_dialog("png"))
        self.btn_gif.clicked.connect(lambda: self.export_dialog("gif"))
        self.btn_zero.clicked.connect(self.reset_sliders)
        for w in (self.idx_a, self.idx_b, self.steps, self.idx_move):
            w.valueChanged.connect(self._changed)
        self.mode.currentIndexChanged.connect(self._changed)
        self.ema.toggled.connect(self._changed)
        for k, s in enumerate(self.sliders):
            s.valueChanged.connect(lambda v, k=k: (self.slider_values[k].setText(f"{v / 10:+.1f}"), self._changed()))
        self._update_enabled()

    # -- source -----------------------------------------------------------------------------------------------
    def set_source(self, run_path: Path | None, reason: str = "", live: Callable[..., None] | None = None,
                   ema: bool = False) -> None:
        """The run to explore, or a reason why not now. `live`: send 'generate' requests to its running trainer
        (`ema`: it has an EMA generator); None: restore the generator from a checkpoint."""
        if run_path != self.run_path:
            self.restored, self._restored_key = None, None
            self.noise, self.result, self.fixed = None, None, None
            self.reroll_seed = 0
            for lbl in (self.grid_label, self.moved_label, self.strip_label):
                lbl.set_array(None)
        if (live is None) != (self.live is None):
            self._live_req = None      # a session started or ended: an unanswered request never will be
        self.live = live
        self.ema.setVisible(live is not None and ema)
        self.run_path = run_path
        self.reason = reason if reason else ("" if run_path is not None else "Open or train a run first.")
        self._update_enabled()
        if self._pending is not None and not self.busy:
            QTimer.singleShot(0, self._run_pending)

    def forget_model(self) -> None:
        """Drop the cached generator (a new session is about to build models, or the run changed)."""
        self.restored, self._restored_key = None, None

    @property
    def available(self) -> bool:
        return self.run_path is not None and not self.reason

    @property
    def busy(self) -> bool:
        return self._task is not None or self._live_req is not None

    def _update_enabled(self) -> None:
        ok = self.available
        for w in (self.btn_generate, self.btn_reroll, self.btn_fixed):
            w.setEnabled(ok)       # a click while busy queues (the newest wins)
        has = self.result is not None
        self.btn_png.setEnabled(has)
        self.btn_gif.setEnabled(has)
        if not ok:
            self.info.setText(f"<b>Latent explorer unavailable:</b> {self.reason}")
        elif self.result is None and not self.busy:
            where = "the generator being trained, between steps" if self.live is not None else \
                "the generator of the selected (or latest) checkpoint, in the background"
            self.info.setText(f"Run {self.run_path.name}: press Generate to explore {where}.")

    # -- parameters -------------------------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        return {"a": self.idx_a.value(), "b": self.idx_b.value(), "steps": self.steps.value(),
                "mode": self.mode.currentData(), "move": self.idx_move.value(),
                "offsets": [s.value() / 10 for s in self.sliders]}

    def reset_sliders(self) -> None:
        with signals_blocked(*self.sliders):
            for s, value in zip(self.sliders, self.slider_values, strict=True):
                s.setValue(0)
                value.setText("+0.0")
        self._changed()

    def _changed(self, *_: object) -> None:
        if self.result is not None and self.available:
            self._regenerate()    # once the user stops dragging

    def _grid_clicked(self, x: float, y: float, button) -> None:
        if self.result is None or self.noise is None:
            return
        n, h, w = self.result["grid_images"].shape[:3]
        i = grid_index(x, y, n, h, w)
        if i is not None:
            (self.idx_b if button == Qt.RightButton else self.idx_a).setValue(i)

    def reroll(self) -> None:
        self.reroll_seed += 1
        self.generate(reroll=self.reroll_seed)

    def use_fixed_noise(self) -> None:
        self.noise = None
        self.generate()

    # -- generation -------------------------------------------------------------------------------------------
    def generate(self, reroll: int | None = None) -> bool:
        """Queue a generation. Returns False (with the reason shown) if unavailable."""
        if not self.available:
            self.failed.emit(self.reason)
            return False
        req = {**self.params(), "reroll": reroll, "ema": self.ema.isChecked()}
        if self.live is None:
            from ...engine.checkpoints import list_checkpoints  # noqa: PLC0415

            ckpts = list_checkpoints(RunDir(self.run_path).checkpoints)
            if not ckpts:
                msg = f"{self.run_path.name} has no checkpoint yet: save one (or let training reach checkpoint_every)"
                self.info.setText(msg)
                self.failed.emit(msg)
                return False
            wanted = self.checkpoint_step()
            req["ckpt"] = wanted if wanted in {c.step for c in ckpts} else ckpts[-1].step
        if self.busy or (self.live is None and self.tasks.busy("export")):
            self._pending = req           # only the newest request matters
            if not self.busy:
                QTimer.singleShot(200, self._run_pending)   # another export holds the model builder: retry
            return True
        self._start(req)
        return True

    def _run_pending(self) -> None:
        req, self._pending = self._pending, None
        if req is not None and self.available:
            self.generate(req["reroll"])      # today's source and parameters; only the re-roll is remembered

    @staticmethod
    def _working_noise(req: dict[str, Any], fixed: np.ndarray, current: np.ndarray | None) -> np.ndarray:
        """The noise of this update: a seeded re-roll, the noise shown now, or the source's fixed noise."""
        if req["reroll"] is not None:
            return reroll_noise((current if current is not None else fixed).shape, req["reroll"])
        return fixed if current is None else current

    def _start(self, req: dict[str, Any]) -> None:
        if self.live is not None:
            self._start_live(req)
        else:
            self._start_task(req)
        self._update_enabled()

    def _start_live(self, req: dict[str, Any]) -> None:
        """One 'generate' request: first the fixed noise alone (to learn it), then every view in one batch."""
        tag = f"latent-{next(_tags)}"
        self._live_req = {**req, "tag": tag}
        if self.fixed is None:
            self.live(noise=None, ema=req["ema"], tag=tag)
            self.info.setText("Asking the trainer for its fixed noise …")
            return
        fixed, labels = self.fixed
        z = self._working_noise(req, fixed, self.noise)
        batch, y, extra = view_batch(z, labels, req)
        self._live_req.update(noise=z, extra=extra)
        self.live(noise=batch, labels=y, ema=req["ema"], tag=tag)
        self.info.setText("Generating on the training thread (at the next step boundary) …")

    def on_generated(self, ev) -> bool:
        """A Generated event from the session; True if it answered this explorer's request."""
        req = self._live_req
        if req is None or ev.tag != req["tag"]:
            return False
        self._live_req = None
        if "noise" not in req:                     # the answer to the fixed-noise question
            self.fixed = (ev.noise, ev.labels)
            self._start(req)
            return True
        n = len(req["noise"])
        res = {"restored": None, "key": (str(self.run_path), ev.step), "live": True, "noise": req["noise"],
               "fixed_noise": self.fixed[0], "params": req, **req["extra"],
               **split_views(ev.images, n, req["steps"])}
        self._done(res)
        self._after_generation()
        return True

    def _start_task(self, req: dict[str, Any]) -> None:
        key = (str(self.run_path), req["ckpt"])
        restored = self.restored if self._restored_key == key else None
        run, current = self.run_path, self.noise     # plain values for the thread, never widgets
        load_generator, generate = self.restore_generator, self.generate_images

        def job(_progress):   # TensorFlow loads here, in the task thread
            r = restored if restored is not None else load_generator(run, key[1])
            z = LatentExplorer._working_noise(req, r.fixed_noise, current)
            labels = grid_labels(r.config, len(z))
            batch, y, extra = view_batch(z, labels, req)
            images = generate(r.generator, batch, y)
            return {"restored": r, "key": key, "live": False, "noise": z, "fixed_noise": r.fixed_noise,
                    "params": req, **extra, **split_views(images, len(z), req["steps"])}

        task = self.make_task(job, name="export-latent", parent=self)
        task.done.connect(self._done)
        task.failed.connect(self._failed)
        task.finished.connect(self._task_finished)
        self._task = task
        self.info.setText(f"Generating from {run.name} (step {key[1]:,}) …")
        self.tasks.start(task)

    def _task_finished(self) -> None:
        self._task = None
        self._after_generation()

    def _after_generation(self) -> None:
        self._update_enabled()
        if self._pending is not None:
            QTimer.singleShot(0, self._run_pending)   # after the TaskSet has forgotten this task

    def _done(self, res: dict[str, Any]) -> None:
        if res["key"][0] != str(self.run_path):
            return        # the run changed while generating
        if res["restored"] is not None:
            self.restored, self._restored_key = res["restored"], res["key"]
        self.noise = res["noise"]
        self.result = res
        n = len(self.noise)
        with signals_blocked(self.idx_a, self.idx_b, self.idx_move):
            for s in (self.idx_a, self.idx_b, self.idx_move):
                s.setRange(0, n - 1)
        self.grid_label.set_array(make_grid(res["grid_images"]))
        self.moved_label.set_array(make_grid(res["moved"], rows=1))
        self.strip_label.set_array(strip_image(res["strip"]))
        p = res["params"]
        fixed = self.noise.shape == res["fixed_noise"].shape and np.array_equal(self.noise, res["fixed_noise"])
        src = "fixed noise" if fixed else "re-rolled noise"
        where = f"live generator at step {res['key'][1]:,}" + (" (EMA)" if p["ema"] and self.ema.isVisible() else "") \
            if res["live"] else f"checkpoint step {res['key'][1]:,}"
        self.info.setText(f"{self.run_path.name}, {where}, {src}: {n} samples, noise_dim {self.noise.shape[1]}")
        self.strip_title.setText(f"Interpolation {p['a']} → {p['b']} ({p['mode']}, {p['steps']} steps)")
        self._update_enabled()
        self.generated.emit(res)

    def _failed(self, exc: object) -> None:
        text = f"Latent explorer: {self.describe_error(exc)}"  # type: ignore[arg-type]
        self.info.setText(text)
        self.failed.emit(text)

    # -- export -----------------------------------------------------------------------------------------------
    def default_path(self, fmt: str) -> Path:
        step = self.result["key"][1] if self.result else 0
        p = self.result["params"] if self.result else {"a": 0, "b": 0}
        return RunDir(self.run_path or Path.cwd()).latent_strip_path(step, p["a"], p["b"], fmt)

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
        except (OSError, GanStudioError) as e:
            self.failed.emit(f"Cannot write {target}: {e}")
            return None
        self.info.setText(f"Exported {out}")
        self.exported.emit(out)
        return out
