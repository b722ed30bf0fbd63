"""The run's checkpoints as the trainer uses them: saving (a failed write is one WriteError naming the folder),
the best mark, branching off an earlier step (newer checkpoints and logs move aside), restoring, the checkpoint to
roll back to, and the studio's pin/unpin/delete requests. Storage itself (atomic saves, retention, best.json) is
checkpoints.CheckpointStore."""
from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path
from typing import Any

from ..core.errors import CheckpointError, WriteError
from ..core.fileio import write_error
from ..runs import RunDir
from ..core.tfsetup import import_tf
from .checkpoints import (CheckpointInfo, CheckpointStore, delete_checkpoint, find_checkpoint, list_checkpoints,
                          set_pinned, step_dir)
from .events import CheckpointsChanged, Event, Message


class CheckpointKeeper:
    """store: the run's CheckpointStore (its tf.train.Checkpoint holds the training state); run: the run folder,
    whose logs branch with the checkpoints."""

    def __init__(self, store: CheckpointStore, run: RunDir) -> None:
        self.store = store
        self.run = run

    @property
    def folder(self) -> Path:
        return Path(self.store.folder)

    def save(self, step: int, meta: dict[str, Any], keep: int) -> CheckpointInfo:
        """Save the state as the checkpoint of `step`, keeping the newest `keep` (plus pinned and best). Any failure
        raises WriteError (TensorFlow's ENOSPC/EACCES/EROFS OpErrors included); earlier checkpoints stay intact."""
        tf = import_tf()
        self.store.keep = keep
        try:
            return self.store.save(step, meta)
        except (tf.errors.OpError, CheckpointError, WriteError) as e:
            for tmp in self.folder.glob(".saving-*"):   # TF's own errors pass the store's cleanup
                shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(e, tf.errors.OpError):   # TF reports ENOSPC, EACCES, EROFS as OpErrors
                code = errno.ENOSPC if isinstance(e, tf.errors.ResourceExhaustedError) else \
                    errno.EACCES if isinstance(e, tf.errors.PermissionDeniedError) else errno.EIO
                e = write_error(step_dir(self.folder, step), OSError(code, e.message[:200]))
            raise e if isinstance(e, WriteError) else WriteError(str(e)) from None

    def has(self, step: int) -> bool:
        return self.store.has(step)

    def any(self) -> bool:
        return bool(list_checkpoints(self.folder))

    def is_better(self, fd: float) -> bool:
        """Whether `fd` beats the best mark (the lowest Fréchet distance so far)."""
        return self.store.is_better(fd)

    def mark_best(self, step: int, fd: float) -> Path:
        """Move the best mark to the (saved) checkpoint of `step`, in one atomic write; its folder."""
        self.store.set_best(step, fd)
        return step_dir(self.folder, step)

    def find(self, which: int | str | None) -> CheckpointInfo:
        """best | latest | a step (None = latest); CheckpointError when there is none such."""
        return find_checkpoint(self.folder, which)

    def last_before(self, step: int) -> CheckpointInfo | None:
        """The newest checkpoint from before `step` (a rollback's target), or None."""
        ckpts = [c for c in list_checkpoints(self.folder) if c.step < step]
        return ckpts[-1] if ckpts else None

    def restore(self, info: CheckpointInfo) -> float:
        """Load the state from `info`; its training seconds (the train_minutes budget used up to it)."""
        self.store.restore(info)
        return float(json.loads((info.path / "meta.json").read_text()).get("train_seconds", 0.0))

    def branch_off(self, step: int) -> list[Message]:
        """Continue from the checkpoint of `step`. Newer checkpoints (complete or not) must never be resumed later by
        mistake: they move aside, kept, with the metric rows, quality rows and grids after `step`, into
        abandoned/step-HEAD-from-STEP. Incomplete ones are renamed first (reported once); the best is chosen again
        from what is left. Returns the warnings that say so."""
        store, run = self.store, self.run
        notes = [Message(text, "warning") for text in store.set_aside_incomplete()]
        newer = store.newer_than(step)
        if newer:
            dest = run.abandoned_branch(newer[-1][0], step)
            store.move_aside([p for _, p in newer], dest / "checkpoints")
            run.rewind(step, keep_in=dest)
            steps = ", ".join(str(s) for s, _ in newer)
            notes.append(Message(f"continuing from step {step}: the newer checkpoint{'s' * (len(newer) > 1)} {steps} "
                                 f"moved aside to {dest} (kept, never resumed)", "warning"))
        else:
            run.rewind(step)
        store.choose_best(run.read_quality())
        return notes

    def change(self, what: str, step: int) -> Event:
        """Pin/unpin/delete the checkpoint of `step` (the studio's Checkpoints dock): CheckpointsChanged, or an
        error Message when it is gone or the file system refuses."""
        info = next((c for c in list_checkpoints(self.folder) if c.step == step), None)
        if info is None:
            return Message(f"no checkpoint at step {step} any more (retention may have removed it)", "error")
        try:
            delete_checkpoint(info) if what == "delete" else set_pinned(info, what == "pin")
        except OSError as e:
            return Message(f"{info.path}: cannot {what} ({e.strerror or e})", "error")
        return CheckpointsChanged(step, f"{what.capitalize()}{'d' if what == 'delete' else 'ned'} the checkpoint at "
                                        f"step {step:,}")
