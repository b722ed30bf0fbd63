"""The run's TensorBoard log (<run>/tensorboard): the config as hparams at start (engine/tb_hparams.py), the step
metrics, sample grids and quality scalars as training goes. `open_board` gives a no-op board when TensorBoard is off
(or on a worker that is not the chief), so the trainer writes without asking."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.tfsetup import import_tf
from .events import Metric, StepMetrics
from .tb_hparams import write_best_fd, write_hparams

STEP_SCALARS = ("g_loss", "d_loss", "d_real", "d_fake", "r_real", "ada_p", "images_per_sec")


class NoBoard:
    """TensorBoard off: every write is a no-op."""
    enabled = False

    def scalars(self, m: StepMetrics) -> None:
        pass

    def image(self, step: int, grid: np.ndarray) -> None:
        pass

    def quality(self, m: Metric, quality_rows: list[dict[str, Any]]) -> None:
        pass

    def flush(self) -> None:
        pass


class Board(NoBoard):
    """A tf.summary file writer in `folder`, opened with the config as the session's hparams (trial id: run_path)."""
    enabled = True

    def __init__(self, folder: str | Path, config, run_path: str | Path) -> None:
        self.writer = import_tf().summary.create_file_writer(str(folder))
        write_hparams(self.writer, config, run_path)   # TensorBoard's HParams dashboard

    def scalars(self, m: StepMetrics) -> None:
        tf = import_tf()
        with self.writer.as_default(step=m.step):
            for k in STEP_SCALARS:
                tf.summary.scalar(k, getattr(m, k))

    def image(self, step: int, grid: np.ndarray) -> None:
        from ..core.imaging import make_grid  # noqa: PLC0415

        with self.writer.as_default(step=step):
            import_tf().summary.image("samples", make_grid(grid)[None])

    def quality(self, m: Metric, quality_rows: list[dict[str, Any]]) -> None:
        """quality/fd, /kid, /memorization of `m`, and quality/best_fd over `quality_rows` (m's included)."""
        tf = import_tf()
        with self.writer.as_default(step=m.step):
            tf.summary.scalar("quality/fd", m.fd)
            write_best_fd(quality_rows, m.step)
            tf.summary.scalar("quality/kid", m.kid)
            tf.summary.scalar("quality/memorization", m.memorization)

    def flush(self) -> None:
        self.writer.flush()


def open_board(run_path: str | Path, config, enabled: bool) -> NoBoard:
    """The run's board: a Board writing into run_path/tensorboard when `enabled`, else a NoBoard."""
    return Board(Path(run_path) / "tensorboard", config, run_path) if enabled else NoBoard()
