"""The run's config and FD for TensorBoard's HParams dashboard, so `tensorboard --logdir runs` compares runs and sweep
trials by their settings: at start (and at every resume) the config as hparams of the run's session, and beside
the trainer's `quality/fd` scalar the best FD so far (`quality/best_fd`). The dashboard shows each metric's last
value: `quality/fd` is the final FD, `quality/best_fd` the best. TensorBoard keeps a run's first hparams, so a row
shows the config the run started with (a run from before this module: the one of its first resume since)."""
from __future__ import annotations

from typing import Any

BEST_FD_TAG = "quality/best_fd"


def hparams_of(config) -> dict[str, Any]:
    """Every config field by its --set name (flat: g_lr, batch_size, ...) plus the preset; the dashboard takes
    bool, int, float and str, so anything else becomes its text."""
    out: dict[str, Any] = {"preset": config.preset}
    for info, value in config.items():
        out[info.name] = value if isinstance(value, (bool, int, float, str)) else str(value)
    return out


def write_hparams(writer, config, run_path) -> None:
    """The config as the hparams of the session in `writer` (the run's tensorboard/ folder). The trial id is the run
    folder, so two runs with the same settings stay two rows."""
    from tensorboard.plugins.hparams import api as hp  # noqa: PLC0415

    with writer.as_default(step=0):
        hp.hparams(hparams_of(config), trial_id=str(run_path))
    writer.flush()


def write_best_fd(quality_rows: list[dict[str, Any]], step: int) -> None:
    """The lowest FD in quality.jsonl up to now, at `step`, into the default writer (inside the trainer's
    `with writer.as_default()` where it writes quality/fd)."""
    from ..core.tfsetup import import_tf  # noqa: PLC0415

    tf = import_tf()
    fds = [r["fd"] for r in quality_rows if isinstance(r.get("fd"), (int, float))]
    if fds:
        tf.summary.scalar(BEST_FD_TAG, min(fds), step=step)
