"""Issue 16 from the command line: data picks a fitting network, ..."""
import json

import numpy as np
import pytest

from ganstudio.cli import main
from ganstudio.config.presets import get_preset
from ganstudio.engine.trainer import adapt_arch_to_data

SMALL = ["--batch-size", "16", "--steps", "1", "--set", "width=8", "--set", "noise_dim=16", "--set", "jit_compile=off",
         "--set", "num_samples=4", "--set", "precision=float32", "--no-progress"]


def colour_npz(path, n=32, size=32):
    np.savez(path, x=np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8))
    return path


def test_adapt_rule():
    tut = get_preset("tutorial").config()
    cfg, note = adapt_arch_to_data(tut, (32, 32, 3))
    assert (cfg.model.arch, cfg.model.image_size, cfg.model.channels) == ("dcgan", 32, 3) and "32x32x3" in note
    assert cfg.optim.g_lr == tut.optim.g_lr and cfg.data.batch_size == tut.data.batch_size   # nothing else moves
    assert adapt_arch_to_data(tut, (28, 28, 1)) == (tut, "")
    assert adapt_arch_to_data(tut, (48, 48, 3)) == (tut, "")      # dcgan cannot take it either: the error explains
    dc = get_preset("dcgan").config()
    assert adapt_arch_to_data(dc, (32, 32, 3)) == (dc, "")        # already adaptive (fit_config_to_data resizes)


def test_colour_data_without_preset_switches_to_dcgan(tmp_path, capsys):
    data = colour_npz(tmp_path / "rgb.npz")
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(data), *SMALL, "--run-dir", str(run)]) == 0
    out = capsys.readouterr()
    notes = [line for line in (out.out + out.err).splitlines() if "dcgan network at 32x32x3" in line]
    assert len(notes) == 1 and "fixed at 28x28x1" in notes[0]
    model = json.loads((run / "config.json").read_text())["model"]
    assert (model["arch"], model["image_size"], model["channels"]) == ("dcgan", 32, 3)

    # an explicit preset (or arch) is the user's choice: today's clear error, nothing switched
    for pin in (["--preset", "tutorial"], ["--set", "arch=tutorial"]):
        assert main(["train", "--dataset", str(data), *pin, *SMALL, "--run-dir", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err
        assert "the 'tutorial' network is fixed at 28x28x1; use --preset dcgan" in err and "Traceback" not in err
        assert not (tmp_path / "x").exists()


TINY = ["--preset", "tiny", "--set", "limit=128", "--batch-size", "16", "--set", "jit_compile=off", "--set",
        "num_samples=4", "--set", "precision=float32", "--set", "checkpoint_every=2", "--no-progress"]


def test_checkpoint_archive_round_trip(tmp_path, capsys):
    """Export the step-2 checkpoint, import it elsewhere, resume: step 3 is the original run's step 3."""
    run = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "4", "--run-dir", str(run)]) == 0
    original = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    capsys.readouterr()
    assert main(["export", str(run), "--format", "checkpoint", "--checkpoint", "2"]) == 0
    archive = run / "run_step000002.tar.gz"
    assert capsys.readouterr().out.strip() == str(archive) and archive.is_file()
    assert main(["export", str(run), "--format", "checkpoint", "--checkpoint", "2"]) == 2     # never overwritten
    assert "already exists" in capsys.readouterr().err

    moved = tmp_path / "elsewhere" / "a.tar.gz"      # "another machine": only the archive travels
    moved.parent.mkdir()
    archive.rename(moved)
    assert main(["import", str(moved)]) == 0
    imported = tmp_path / "runs" / "run"             # the runs root (GANSTUDIO_RUNS) / the original name
    assert capsys.readouterr().out.startswith(f"{imported}\n")
    assert [json.loads(line)["step"] for line in (imported / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert sorted(p.name for p in (imported / "checkpoints").iterdir()) == ["step_000002"]
    assert (imported / "config.json").read_bytes() == (run / "config.json").read_bytes()
    assert main(["import", str(moved)]) == 0 and (tmp_path / "runs" / "run-2").is_dir()       # never on top

    assert main(["resume", str(imported), "--steps", "3", "--no-progress"]) == 0
    resumed = [json.loads(line) for line in (imported / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in resumed] == [1, 2, 3]
    for key in ("g_loss", "d_loss", "d_real", "d_fake"):
        assert abs(resumed[2][key] - original[2][key]) <= 1e-5, key


def test_import_refuses_unsafe_or_foreign_archives(tmp_path, capsys):
    import io
    import tarfile

    def archive(name, members):
        path = tmp_path / name
        with tarfile.open(path, "w:gz") as tar:
            for member, data in members:
                info = tarfile.TarInfo(member)
                if data is None:
                    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                else:
                    info.size = len(data)
                tar.addfile(info, io.BytesIO(data or b""))
        return path

    manifest = json.dumps({"format": "ganstudio-checkpoint/1", "run": "r", "step": 2}).encode()
    base = [("manifest.json", manifest), ("config.json", b"{}")]
    for name, bad, why in [("up.tar.gz", ("../evil.txt", b"x"), "points outside the run folder"),
                           ("abs.tar.gz", ("/tmp/evil.txt", b"x"), "points outside the run folder"),
                           ("link.tar.gz", ("checkpoints/link", None), "not a plain file or folder")]:
        assert main(["import", str(archive(name, [*base, bad])), "--run-dir", str(tmp_path / "new")]) == 2
        err = capsys.readouterr().err
        assert why in err and "Traceback" not in err
    assert main(["import", str(archive("foreign.tar.gz", [("a.txt", b"x")]))]) == 2
    assert "not a ganstudio checkpoint archive" in capsys.readouterr().err
    assert not (tmp_path / "new").exists() and not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "runs").exists()


def test_version_and_desktop_install(tmp_path, monkeypatch, capsys):
    import ganstudio

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"ganstudio {ganstudio.__version__}"

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert main(["desktop-install"]) == 0
    entry = tmp_path / "share" / "applications" / "ganstudio.desktop"
    icon = tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "ganstudio.svg"
    assert capsys.readouterr().out.split("\n")[:2] == [f"wrote {entry}", f"wrote {icon}"]
    lines = entry.read_text().splitlines()
    assert lines[0] == "[Desktop Entry]" and "Icon=ganstudio" in lines and "Type=Application" in lines
    exec_line = next(line for line in lines if line.startswith("Exec="))
    assert exec_line.endswith(" -m ganstudio gui") and exec_line[5:].split()[0].endswith(("python", "python3",
                                                                                          "python3.11"))
    assert icon.read_bytes().startswith(b"<svg")
    assert main(["desktop-install", "--uninstall"]) == 0
    assert not entry.exists() and not icon.exists()
    assert main(["desktop-install", "--uninstall"]) == 0 and "nothing to remove" in capsys.readouterr().out


def parse_exec(value: str) -> list[str]:
    """The Desktop Entry spec's reading of an Exec value: string escapes first, then quoting, then %% -> %."""
    unescaped, i = "", 0
    while i < len(value):
        if value[i] == "\\":
            unescaped += {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[value[i + 1]]
            i += 2
        else:
            unescaped += value[i]
            i += 1
    args, cur, quoted, i = [], None, False, 0
    while i < len(unescaped):
        c = unescaped[i]
        if quoted:
            if c == "\\":
                assert unescaped[i + 1] in '"`$\\', f"bad escape in {value!r}"
                cur += unescaped[i + 1]
                i += 1
            elif c == '"':
                quoted = False
            else:
                cur += c
        elif c == " ":
            if cur is not None:
                args.append(cur)
            cur = None
        elif c == '"':
            assert cur is None, "a quote must open an argument"
            cur, quoted = "", True
        else:
            assert c not in " \t\n\"'\\><~|&;$*?#`()", f"reserved {c!r} outside quotes in {value!r}"
            cur = (cur or "") + c
        i += 1
    assert not quoted
    args.append(cur)
    return [a.replace("%%", "\0").replace("\0", "%") for a in args]


def test_desktop_entry_exec_quotes_spaces_and_quotes():
    from ganstudio.core.desktop_entry import desktop_entry

    def exec_value(python):
        return next(line for line in desktop_entry(python).splitlines() if line.startswith("Exec="))[5:]

    assert exec_value("/opt/venv/bin/python") == "/opt/venv/bin/python -m ganstudio gui"    # nothing to quote
    assert exec_value("/home/a b/venv/bin/python") == '"/home/a b/venv/bin/python" -m ganstudio gui'
    assert exec_value('/home/it\'s "mine"/bin/python') == '"/home/it\'s \\\\"mine\\\\"/bin/python" -m ganstudio gui'
    for python in ("/home/a b/venv/bin/python", '/tmp/it\'s "x"/py', "/tmp/$HOME `id` 100%/python",
                   "/tmp/back\\slash dir/python", "/tmp/%f/python"):
        value = exec_value(python)
        assert parse_exec(value) == [python, "-m", "ganstudio", "gui"], value
        assert "%" not in value.replace("%%", "")       # no stray field code
