"""File ▸ Export offers the ONNX and LiteRT exports from the list the CLI reads (export.EXPORT_FORMATS); the files
they write run in their runtimes."""
import shutil

import numpy as np
import pytest

from ganstudio.outputs.export import EXPORT_FORMATS, generate, load_generator

TIMEOUT = 120_000   # the first export imports TensorFlow on 2 busy cores


def test_onnx_and_litert_from_the_export_menu(make_main_window, trained_run, tmp_path, qtbot):
    ort = pytest.importorskip("onnxruntime", reason="the [export] extra is not installed")
    litert = pytest.importorskip("ai_edge_litert.interpreter", reason="the [export] extra is not installed")
    run = shutil.copytree(trained_run, tmp_path / "runs" / "run-a")
    win = make_main_window(preset="tiny")
    assert win.open_run(run)
    assert set(win.run_export_actions) == {f for f, spec in EXPORT_FORMATS.items() if spec.menu}
    z = load_generator(run).fixed_noise[:2].astype(np.float32)
    expected = generate(load_generator(run).generator, z)
    for fmt, suffix in (("onnx", ".onnx"), ("litert", ".tflite")):
        offered = []
        win.choose_save_path = lambda title, start, filt: offered.append((start, filt)) or str(tmp_path / fmt)
        qtbot.waitUntil(lambda: win.run_export_actions[fmt].isEnabled(), timeout=5000)
        with qtbot.waitSignal(win.exportFinished, timeout=TIMEOUT) as blocker:
            win.run_export_actions[fmt].trigger()
        assert offered == [(str(run / f"generator{suffix}"), EXPORT_FORMATS[fmt].filter)]
        out = tmp_path / f"{fmt}{suffix}"                      # the dialog added the suffix
        assert blocker.args[0] == out, blocker.args[0]
        if fmt == "onnx":
            images = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"noise": z})[0]
        else:
            images = litert.Interpreter(model_path=str(out)).get_signature_runner()(noise=z)["images"]
        assert images.dtype == np.uint8 and np.abs(images.astype(int) - expected.astype(int)).max() <= 1
    assert win.errors == []
