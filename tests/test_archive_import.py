"""Checkpoint archives (issue 30, points 4 and 5): what an archive carries (best marker, sessions, edits, health up to
its step), what `import` refuses (bombs, too many members, bad manifest / meta, links, paths outside, not gzip,
truncated) with one line and exit 2 and nothing left behind, and new files' modes following the umask."""
import gzip
import io
import json
import os
import shutil
import stat
import tarfile
from html import escape

import pytest

from ganstudio.cli import main
from ganstudio.core import fileio
from ganstudio.core.errors import CheckpointError
from ganstudio.core.fileio import atomic_write_bytes, atomic_write_text
from ganstudio.engine.checkpoints import CheckpointStore, find_checkpoint
from ganstudio.outputs import archive as archive_mod
from ganstudio.outputs.archive import export_checkpoint, import_checkpoint
from ganstudio.runs import RunDir


@pytest.fixture(scope="module")
def good_archive(trained_run, tmp_path_factory):
    """A real archive of the trained run's step-2 checkpoint, as {member name: bytes} plus the raw file."""
    path = export_checkpoint(trained_run, tmp_path_factory.mktemp("good") / "good.tar.gz", which=2)
    with tarfile.open(path) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    return path, members


def make_archive(path, members, fmt=tarfile.GNU_FORMAT):
    """A .tar.gz of (name, bytes | TarInfo-tweak) pairs; bytes None makes a symlink to /etc/passwd."""
    with tarfile.open(path, "w:gz", format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            elif data == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, "config.json"
            elif data == "dir":
                info.type = tarfile.DIRTYPE
            else:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data if isinstance(data, bytes) else b""))
    return path


def with_changes(members, **changes):
    """The good archive's members with some replaced (name -> bytes) or added."""
    out = dict(members)
    for key, value in changes.items():
        out[key] = value
    return list(out.items())


def manifest(**fields):
    base = {"format": "ganstudio-checkpoint/1", "ganstudio": "0.1.0", "run": "r", "step": 2}
    return json.dumps({**base, **fields}).encode()


def meta_of(members):
    name = "checkpoints/step_000002/meta.json"
    return name, json.loads(members[name])


def assert_refused(capsys, argv, expect, runs_root, *keep):
    """exit 2, exactly one stderr line naming `expect`, nothing on stdout, nothing left in the runs root."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert lines[0].startswith("ganstudio: error:") and expect in lines[0], lines[0]
    assert not runs_root.exists(), sorted(p.name for p in runs_root.iterdir())
    for folder in keep:      # only what was there before: no temp folder, no half-imported run
        leftovers = [p.name for p in folder.iterdir() if not p.name.endswith(".tar.gz") and p.name != "not-gzip"]
        assert leftovers == [], leftovers


# -- what an archive carries --------------------------------------------------------------------------------------
def test_round_trip_keeps_best_sessions_edits_and_health(trained_run, tmp_path, capsys):
    run_path = shutil.copytree(trained_run, tmp_path / "src")
    run = RunDir(run_path)
    CheckpointStore(None, run.checkpoints).set_best(2, 12.5)          # what training writes on a better FD
    for step, fd in ((1, 30.0), (2, 12.5), (3, 20.0)):
        run.append_quality({"step": step, "fd": fd, "kid": 0.1})
    for step in (1, 3):
        run.append_health({"step": step, "kind": "mode_collapse", "message": f"warning at {step}", "cause": "",
                           "evidence": {}, "remedies": []})
        run.log_edit(step, {"g_lr": (1e-4, 2e-4)})
    sessions = run.read_sessions()
    assert sessions and sessions[0]["step"] == 0 and sessions[0]["device"]
    run.append_session({"step": 3, "time": 1.0, "device": "a later session", "dataset": "", "g_params": 1,
                        "d_params": 1})

    assert main(["export", str(run_path), "--format", "checkpoint", "--checkpoint", "best"]) == 0
    archive = run_path / "src_step000002.tar.gz"
    assert capsys.readouterr().out.strip() == str(archive)
    moved = tmp_path / "elsewhere" / "a.tar.gz"
    moved.parent.mkdir()
    archive.rename(moved)
    assert main(["import", str(moved)]) == 0
    imported = RunDir(tmp_path / "runs" / "src")
    assert capsys.readouterr().out.startswith(f"{imported.path}\n")

    best = find_checkpoint(imported.checkpoints, "best")           # what --checkpoint best resolves to
    assert best.step == 2 and best.best
    assert json.loads((imported.checkpoints / "best.json").read_text())["fd"] == 12.5
    assert imported.read_sessions() == sessions                    # up to the step: not the later session
    assert [r["step"] for r in imported.read_health()] == [1]
    assert [r["step"] for r in imported.read_edits()] == [1]
    assert [r["step"] for r in imported.read_quality()] == [1, 2]
    assert (imported.path / "samples").is_dir()

    from ganstudio.outputs.report import build_report

    html = build_report(imported.path)
    assert escape(sessions[0]["device"]) in html and "not recorded" not in html
    assert "a later session" not in html

    # not the best: the exported checkpoint becomes the imported run's best if its quality was measured ...
    capsys.readouterr()
    assert main(["export", str(run_path), "--format", "checkpoint", "--checkpoint", "3"]) == 0
    assert main(["import", capsys.readouterr().out.strip(), "--run-dir", str(tmp_path / "at3")]) == 0
    best = find_checkpoint(tmp_path / "at3" / "checkpoints", "best")
    assert best.step == 3 and json.loads((best.path.parent / "best.json").read_text())["fd"] == 20.0
    # ... and none if it was not (the run's best, step 2, is not in the archive)
    (run.quality_file).write_text(json.dumps({"step": 2, "fd": 12.5}) + "\n")
    capsys.readouterr()
    assert main(["export", str(run_path), "--format", "checkpoint", "--checkpoint", "1"]) == 0
    assert main(["import", capsys.readouterr().out.strip(), "--run-dir", str(tmp_path / "at1")]) == 0
    assert not (tmp_path / "at1" / "checkpoints" / "best.json").exists()
    with pytest.raises(CheckpointError, match="no best checkpoint yet"):
        find_checkpoint(tmp_path / "at1" / "checkpoints", "best")
    assert find_checkpoint(tmp_path / "at1" / "checkpoints", "latest").step == 1


# -- what import refuses ------------------------------------------------------------------------------------------
def test_limits_are_sane():
    assert archive_mod.MAX_MEMBERS >= 100
    assert archive_mod.unpack_allowance(10) == archive_mod.MIN_ALLOWANCE
    assert archive_mod.unpack_allowance(10**8) == archive_mod.MAX_RATIO * 10**8
    assert archive_mod.unpack_allowance(10**12) == archive_mod.MAX_UNPACKED_BYTES
    assert archive_mod.MAX_UNPACKED_BYTES >= 16 * 2**30      # a width-512 dcgan's checkpoint is ~14 GB


def hostile_cases(members):
    """(id, member list or raw bytes, expected words in the error)."""
    meta_name, meta = meta_of(members)
    m = lambda **f: with_changes(members, **{"manifest.json": manifest(**f)})   # noqa: E731
    mt = lambda **f: with_changes(members, **{meta_name: json.dumps({**meta, **f}).encode()})  # noqa: E731
    return [
        ("manifest-time-word", m(time="yesterday"), "manifest.json: time is 'yesterday'"),
        ("manifest-time-list", m(time=[1, 2]), "manifest.json: time is [1, 2]"),
        ("manifest-run-nul", m(run="a\0b"), "manifest.json: run is 'a\\x00b'"),
        ("manifest-run-slash", m(run="a/b"), "manifest.json: run is 'a/b'"),
        ("manifest-run-dotdot", m(run=".."), "manifest.json: run is '..'"),
        ("manifest-run-list", m(run=["x"]), "manifest.json: run is ['x']"),
        ("manifest-step-negative", m(step=-1), "manifest.json: step is -1"),
        ("manifest-step-string", m(step="2"), "manifest.json: step is '2'"),
        ("manifest-step-bool", m(step=True), "manifest.json: step is True"),
        ("manifest-step-other", m(step=5), "no checkpoint of step 5"),
        ("manifest-format", m(format=1), "manifest.json: format is 1"),
        ("manifest-foreign-format", m(format="other/2"), "unknown archive format 'other/2'"),
        ("manifest-not-object", with_changes(members, **{"manifest.json": b"[1]"}), "not a JSON object"),
        ("manifest-not-json", with_changes(members, **{"manifest.json": b"{"}), "manifest.json is not valid JSON"),
        ("meta-time-word", mt(time="yesterday"), "meta.json: time is 'yesterday'"),
        ("meta-time-list", mt(time=[1]), "meta.json: time is [1]"),
        ("meta-seconds", mt(train_seconds="x"), "meta.json: train_seconds is 'x'"),
        ("meta-step", mt(step=3), "meta.json: step is 3"),
        ("best-step", with_changes(members, **{"checkpoints/best.json": b'{"step": 1, "fd": 3}'}),
         "best.json: step is 1"),
        ("best-fd", with_changes(members, **{"checkpoints/best.json": b'{"step": 2, "fd": "low"}'}),
         "best.json: fd is 'low'"),
        ("config-bad", with_changes(members, **{"config.json": b'{"optim": {"g_lr": -1}}'}), "g_lr"),
        ("config-list", with_changes(members, **{"config.json": b"[]"}), "config.json is not a JSON object"),
        ("other-checkpoint", with_changes(members, **{"checkpoints/step_000001/meta.json": b"{}"}),
         "holds 'step_000001' besides"),
        ("incomplete", [(k, v) for k, v in members.items() if ".index" not in k], "incomplete"),
        ("symlink", with_changes(members, **{"checkpoints/link": None}), "not a plain file or folder"),
        ("hardlink", with_changes(members, **{"metrics2.jsonl": "hardlink"}), "not a plain file or folder"),
        ("absolute", with_changes(members, **{"/tmp/evil.txt": b"x"}), "points outside the run folder"),
        ("dotdot", with_changes(members, **{"../evil.txt": b"x"}), "points outside the run folder"),
        ("dotdot-inside", with_changes(members, **{"samples/../../evil.txt": b"x"}), "points outside"),
        ("duplicate", [*with_changes(members), ("config.json", b"{}")], "'config.json' appears twice"),
        ("too-many-members", [*with_changes(members), *((f"samples/f{i}.png", b"")
                                                         for i in range(archive_mod.MAX_MEMBERS))],
         f"more than {archive_mod.MAX_MEMBERS} members"),
        ("foreign", [("a.txt", b"x")], "not a ganstudio checkpoint archive (no manifest.json or config.json)"),
    ]


def test_hostile_archives_one_line_exit_2_nothing_left(good_archive, tmp_path, capsys):
    _, members = good_archive
    runs_root = tmp_path / "runs"
    work = tmp_path / "w"
    work.mkdir()
    for case, contents, expect in hostile_cases(members):
        path = make_archive(work / f"{case}.tar.gz", contents)
        assert_refused(capsys, ["import", str(path)], expect, runs_root, work)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    # with --run-dir in folders that do not exist yet: those are not left behind either
    path = make_archive(work / "again.tar.gz", hostile_cases(members)[0][1])
    assert_refused(capsys, ["import", str(path), "--run-dir", str(tmp_path / "a" / "b" / "new")],
                   "time is 'yesterday'", runs_root, work)
    assert not (tmp_path / "a").exists()


def test_not_gzip_or_truncated(good_archive, tmp_path, capsys):
    path, _ = good_archive
    runs_root = tmp_path / "runs"
    data = path.read_bytes()
    cases = {
        "not-gzip": (b"hello, this is text\n" * 50, "not a gzip file"),
        "plain.tar.gz": (gzip.decompress(data), "not a gzip file"),        # an uncompressed tar
        "empty.tar.gz": (b"", "not a gzip file"),
        "half.tar.gz": (data[:len(data) // 2], "truncated or damaged"),
        "no-trailer.tar.gz": (data[:-4], "truncated or damaged"),          # only the gzip CRC/length is missing
        "corrupt.tar.gz": (data[:200] + bytes(b ^ 0xFF for b in data[200:400]) + data[400:], ""),
        "gzip-of-text.tar.gz": (gzip.compress(b"not a tar at all" * 100), "damaged"),
    }
    for name, (raw, expect) in cases.items():
        (tmp_path / name).write_bytes(raw)
        assert_refused(capsys, ["import", str(tmp_path / name)], expect, runs_root, tmp_path)
    assert_refused(capsys, ["import", str(tmp_path / "missing.tar.gz")], "no such archive", runs_root)


def test_bombs_stop_at_the_limit(good_archive, tmp_path, capsys, monkeypatch):
    """The limit is a module constant; small here so that the test's bombs are small."""
    _, members = good_archive
    limit = 4 * 2**20
    monkeypatch.setattr(archive_mod, "MIN_ALLOWANCE", limit)
    monkeypatch.setattr(archive_mod, "MAX_RATIO", 1)
    runs_root = tmp_path / "runs"
    big = b"\0" * (limit + 1)
    # honest headers: refused before any data is written
    honest = make_archive(tmp_path / "bomb.tar.gz", with_changes(members, **{"metrics.jsonl": big}))
    assert honest.stat().st_size < good_archive[0].stat().st_size + 64 * 1024     # a few KB for 4 MiB
    assert_refused(capsys, ["import", str(honest)], "unpacks to more than 4 MiB", runs_root, tmp_path)
    # many members, each small: their sum counts
    quarter = b"\0" * (limit // 4 + 1)
    many = make_archive(tmp_path / "many.tar.gz", with_changes(members, **{f"samples/{i}.bin": quarter
                                                                          for i in range(4)}))
    assert_refused(capsys, ["import", str(many)], "unpacks to more than 4 MiB", runs_root, tmp_path)
    # headers that declare almost nothing (a 5 MB pax record; zeros after the end of the tar): the stream counts
    pax = tmp_path / "pax.tar.gz"
    with tarfile.open(pax, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if name == "config.json":
                info.pax_headers = {"comment": "x" * (limit + 1)}
            tar.addfile(info, io.BytesIO(data))
    assert_refused(capsys, ["import", str(pax)], "unpacks to more than 4 MiB", runs_root, tmp_path)
    tail = tmp_path / "tail.tar.gz"
    tail.write_bytes(gzip.compress(gzip.decompress(good_archive[0].read_bytes()) + big))
    assert_refused(capsys, ["import", str(tail)], "unpacks to more than 4 MiB", runs_root, tmp_path)
    # and the good archive still imports under these limits
    assert main(["import", str(good_archive[0])]) == 0
    assert (runs_root / "run" / "checkpoints" / "step_000002").is_dir()


def test_existing_target_is_never_touched(good_archive, tmp_path, capsys):
    path, _ = good_archive
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    assert main(["import", str(path), "--run-dir", str(target)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["import", str(path), "--run-dir", str(empty)]) == 0        # an empty folder is fine
    assert (empty / "checkpoints" / "step_000002").is_dir()


# -- file modes ---------------------------------------------------------------------------------------------------
def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_new_files_follow_the_umask(umask, trained_run, tmp_path):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "config.json", "{}")
        assert mode(tmp_path / "config.json") == 0o666 & ~umask
        (tmp_path / "old.bin").write_bytes(b"x")
        os.chmod(tmp_path / "old.bin", 0o600)
        atomic_write_bytes(tmp_path / "old.bin", b"y")       # a replaced file is a new file too
        assert mode(tmp_path / "old.bin") == 0o666 & ~umask and (tmp_path / "old.bin").read_bytes() == b"y"

        archive = export_checkpoint(trained_run, tmp_path / "a.tar.gz", which=2)
        assert mode(archive) == 0o666 & ~umask

        imported = import_checkpoint(archive, tmp_path / "imported")
        for d in (imported, imported / "checkpoints", imported / "checkpoints" / "step_000002", imported / "samples"):
            assert mode(d) == 0o777 & ~umask, d
        files = [p for p in imported.rglob("*") if p.is_file()]
        assert len(files) >= 4
        for f in files:
            assert mode(f) == 0o666 & ~umask, f
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no temp file left
        assert fileio.current_umask() == umask
    finally:
        os.umask(old)


def test_the_temp_folder_is_never_a_run(good_archive, tmp_path, monkeypatch):
    """config.json comes last: while it unpacks, the Runs tab (scan_runs) does not list the half-imported folder."""
    from ganstudio.runs.watch import scan_runs

    seen = []
    check = archive_mod._check_run

    def spy(archive, dest, *args):
        seen.append((dest.parent, RunDir.is_run(dest), [s.path for s in scan_runs(dest.parent)]))
        return check(archive, dest, *args)

    monkeypatch.setattr(archive_mod, "_check_run", spy)
    imported = import_checkpoint(good_archive[0])
    assert seen == [(tmp_path / "runs", False, [])]
    assert RunDir.is_run(imported) and [s.path for s in scan_runs(tmp_path / "runs")] == [imported]
