"""The checkpoint store without TensorFlow: complete-only listing, durable and never-destructive saves, leftovers
swept at start, the best checkpoint, --checkpoint parsing, moving a branch aside."""
import json
import os
from pathlib import Path

import pytest

import ganstudio.engine.checkpoints as ck
from ganstudio.core.errors import CheckpointError
from ganstudio.engine.checkpoints import (CheckpointStore, find_checkpoint, list_checkpoints, parse_which,
                                          scan_checkpoints)


class FakeCkpt:
    """Writes what tf.train.Checkpoint.write writes: an index and one data shard, tagged with a version."""

    def __init__(self):
        self.version = 0

    def write(self, prefix):
        Path(prefix + ".index").write_text(f"index {self.version}")
        Path(prefix + ".data-00000-of-00001").write_text(f"data {self.version}")


def store_with(tmp_path, steps, keep=10):
    store = CheckpointStore(FakeCkpt(), tmp_path / "checkpoints", keep=keep)
    for s in steps:
        store.save(s, {})
    return store


def steps(folder):
    return [c.step for c in list_checkpoints(folder)]


def test_only_complete_checkpoints_count_and_each_incomplete_one_is_reported_once(tmp_path):
    store = store_with(tmp_path, [1, 2, 3, 4])
    f = store.folder
    (f / "step_000004" / "ckpt.data-00000-of-00001").unlink()     # meta.json present, data missing
    (f / "step_000003" / "meta.json").write_text("")              # a 0-byte meta.json
    (f / "step_000002" / "meta.json").write_text("[1]")           # parses, but not an object
    done, broken = scan_checkpoints(f)
    assert [c.step for c in done] == [1]
    assert [(p.name, why) for p, why in broken] == [
        ("step_000002", "meta.json is not an object"), ("step_000003", "meta.json is empty or unreadable"),
        ("step_000004", "data files are missing")]
    assert find_checkpoint(f).step == 1                           # the newest complete one
    notes = store.set_aside_incomplete()
    assert len(notes) == 3 and "step_000004: incomplete checkpoint (data files are missing)" in notes[2]
    assert store.set_aside_incomplete() == []                     # reported once
    assert (f / "step_000004.incomplete" / "meta.json").exists()  # kept, under a name that says so


def test_no_complete_checkpoint_names_the_incomplete_one(tmp_path):
    store = store_with(tmp_path, [5])
    (store.folder / "step_000005" / "ckpt.index").unlink()
    with pytest.raises(CheckpointError, match=r"no checkpoint yet \(step_000005 is incomplete: ckpt.index is "
                                              r"missing or empty\)"):
        find_checkpoint(store.folder)


def test_files_and_folder_are_fsynced_before_the_rename(tmp_path, monkeypatch):
    log = []
    real_replace = os.replace
    monkeypatch.setattr(ck, "_fsync", lambda p: log.append(("fsync", Path(p).name)))
    monkeypatch.setattr(ck.os, "replace", lambda a, b: log.append(("rename", Path(b).name)) or real_replace(a, b))
    CheckpointStore(FakeCkpt(), tmp_path / "c").save(7, {})
    rename = log.index(("rename", "step_000007"))
    synced = {name for kind, name in log[:rename] if kind == "fsync"}
    tmp_name = next(name for kind, name in log if kind == "fsync" and name.startswith(".saving-"))
    assert {"ckpt.index", "ckpt.data-00000-of-00001", "meta.json", tmp_name} <= synced
    assert ("fsync", "c") in log[rename:]                         # and the parent, so the rename is durable


def test_resaving_a_step_never_deletes_the_old_copy_first(tmp_path, monkeypatch):
    store = store_with(tmp_path, [3])
    ck.set_pinned(find_checkpoint(store.folder), True)
    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(src).name.startswith(".saving-"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(ck.os, "replace", failing_replace)
    store.ckpt.version = 1
    with pytest.raises(CheckpointError, match="checkpoint save failed"):
        store.save(3, {})
    monkeypatch.setattr(ck.os, "replace", real_replace)
    info = find_checkpoint(store.folder)
    assert info.step == 3 and info.pinned and (info.path / "ckpt.index").read_text() == "index 0"
    assert sorted(p.name for p in store.folder.iterdir()) == ["step_000003"]
    store.save(3, {})                                             # a successful re-save keeps the pin
    info = find_checkpoint(store.folder)
    assert (info.path / "ckpt.index").read_text() == "index 1" and info.pinned


def test_sweep_cleans_temp_folders_and_puts_back_a_copy_whose_resave_was_killed(tmp_path):
    store = store_with(tmp_path, [2, 4])
    f = store.folder
    (f / ".saving-abc").mkdir()
    (f / ".saving-abc" / "ckpt.index").write_text("half")
    os.replace(f / "step_000004", f / ".old-step_000004-1-2")     # killed between the two renames of a re-save
    assert steps(f) == [2]
    store.sweep()
    assert sorted(p.name for p in f.iterdir()) == ["step_000002", "step_000004"] and steps(f) == [2, 4]


def test_best_is_kept_replaced_only_by_a_better_fd_and_never_pruned(tmp_path):
    store = store_with(tmp_path, [1], keep=2)
    assert store.is_better(30.0)
    store.set_best(1, 30.0)
    assert not store.is_better(31.0) and not store.is_better(float("nan")) and store.is_better(29.0)
    for s in (2, 3, 4):
        store.save(s, {})
    assert steps(store.folder) == [1, 3, 4]                       # retention keeps 2 newest + the best
    assert find_checkpoint(store.folder, "best").step == 1
    store.choose_best([{"step": 1, "fd": 30.0}, {"step": 3, "fd": 12.0}, {"step": 2, "fd": 5.0}])
    assert find_checkpoint(store.folder, "best").step == 3       # 2 has no checkpoint any more
    assert json.loads((store.folder / "best.json").read_text())["fd"] == 12.0
    store.choose_best([])
    with pytest.raises(CheckpointError, match="no best checkpoint yet .* use --checkpoint latest or a step: 1, 3, 4"):
        find_checkpoint(store.folder, "best")


def test_checkpoint_spec_parsing(tmp_path):
    assert [parse_which(w) for w in (None, "latest", "BEST", "20", 7)] == ["latest", "latest", "best", 20, 7]
    with pytest.raises(CheckpointError, match="--checkpoint 'newest': use best, latest or a step number"):
        parse_which("newest")
    store = store_with(tmp_path, [10, 20])
    assert find_checkpoint(store.folder, "10").step == 10 and find_checkpoint(store.folder, "latest").step == 20
    with pytest.raises(CheckpointError, match="no checkpoint at step 15; available: 10, 20"):
        find_checkpoint(store.folder, 15)


def test_newer_checkpoints_move_aside(tmp_path):
    store = store_with(tmp_path, [20, 30, 40])
    newer = store.newer_than(20)
    assert [s for s, _ in newer] == [30, 40]
    store.move_aside([p for _, p in newer], tmp_path / "abandoned" / "step-40-from-20" / "checkpoints")
    assert steps(store.folder) == [20]
    assert steps(tmp_path / "abandoned" / "step-40-from-20" / "checkpoints") == [30, 40]


def test_a_checkpoint_that_predates_an_optional_part_restores_without_it(tmp_path):
    """Runs saved before ADA existed have no ada_p: they resume (p keeps its start value) instead of being refused."""
    from ganstudio.core.tfsetup import import_tf

    tf = import_tf()
    folder = tmp_path / "checkpoints"
    CheckpointStore(tf.train.Checkpoint(w=tf.Variable([1.0, 2.0])), folder).save(3, {})
    w, p = tf.Variable([0.0, 0.0]), tf.Variable(0.25)
    with pytest.raises(CheckpointError):
        CheckpointStore(tf.train.Checkpoint(w=w, ada_p=p), folder).restore(find_checkpoint(folder))
    CheckpointStore(tf.train.Checkpoint(w=w, ada_p=p), folder, optional=("ada_p",)).restore(find_checkpoint(folder))
    assert w.numpy().tolist() == [1.0, 2.0] and p.numpy() == 0.25
