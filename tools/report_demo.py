"""The run behind docs/report.png: a tiny DCGAN with D's learning rate 20x G's, the quality metric every 100 steps,
and the adviser's first remedy applied as a live edit when it warns (what clicking its button does).

    .venv/bin/python tools/report_demo.py runs/report-demo && .venv/bin/ganstudio report runs/report-demo
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ganstudio.engine import HealthWarning  # noqa: E402
from ganstudio.engine.trainer import Trainer  # noqa: E402
from ganstudio.config.presets import get_preset  # noqa: E402

cfg = get_preset("tiny").config().with_updates(
    {"g_lr": 1e-4, "d_lr": 2e-3, "steps": 800, "metric_every": 100, "metric_n": 500, "sample_every": 50,
     "checkpoint_every": 200, "jit_compile": "off", "tensorboard": False})
t = Trainer(cfg, run_dir=sys.argv[1])
for ev in t.run():
    if isinstance(ev, HealthWarning) and ev.remedies and not ev.remedies[0].action:
        t.control.edit(**ev.remedies[0].edits)
