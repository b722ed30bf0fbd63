"""Drive the real studio into a state worth a screenshot (for docs/), with real training, no synthetic events.

    ../shared/tools/shot.sh docs/screenshot.png 90 .venv/bin/python tools/screenshot_driver.py train RUN_DIR
    ../shared/tools/shot.sh docs/insight-training.png 150 .venv/bin/python tools/screenshot_driver.py collapse RUN_DIR
    ../shared/tools/shot.sh docs/screenshot.png 20 .venv/bin/python tools/screenshot_driver.py open RUN_DIR
    ../shared/tools/shot.sh docs/sweep-tab.png 30 .venv/bin/python tools/screenshot_driver.py sweep SWEEP_DIR
    ../shared/tools/shot.sh docs/insight-latent.png 40 .venv/bin/python tools/screenshot_driver.py latent RUN_DIR

train:    the dcgan preset on the bundled data, grids every 20 steps, quality every 100 steps.
collapse: the same with learning rates 1e-2 and a short health window, to show the health banner.
open:     open a finished run: plots, quality curve and grid history refill from its folder.
sweep:    the Sweep tab continuing the README's sweep (`ganstudio sweep --preset dcgan --grid g_lr=1e-4,4e-4
          --grid d_steps=1,2 --minutes 1.5 --sweep-dir SWEEP_DIR`): its table, FD curves and the best grid.
latent:   open an existing run (e.g. the one `train` wrote) on the Latent tab and generate a strip.
paused:   resume an existing run, pause it after a few steps and explore the live generator on the Latent tab.
enlarge:  open an existing run and click-enlarge sample 5 of its latest grid.
about:    open an existing run and show Help > About.
light / dark: open an existing run in that theme.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganstudio.config.presets import get_preset  # noqa: E402
from ganstudio.qt.app import configure_look  # noqa: E402
from ganstudio.qt.main_window import MainWindow  # noqa: E402

SETTINGS = QSettings(str(Path(tempfile.gettempdir()) / "ganstudio-shot.ini"), QSettings.IniFormat)


def main() -> None:
    mode, run_dir = sys.argv[1], Path(sys.argv[2])
    app = QApplication([])
    configure_look(app)
    win = MainWindow(settings=SETTINGS, preset="dcgan")
    win.resize(1600, 980)
    win.desktop.theme.set_mode("light" if mode == "light" else "dark")
    win.show()
    win.ask_close = lambda: "save"
    if mode in ("train", "collapse"):
        updates = {"sample_every": 20, "metric_every": 100, "metric_n": 500, "checkpoint_every": 200}
        if mode == "collapse":
            updates.update({"g_lr": 1e-2, "d_lr": 1e-2, "health_window": 30, "metric_every": 40, "metric_n": 300})
        win.panel.set_config(get_preset("dcgan").config().with_updates(updates))
        QTimer.singleShot(300, lambda: win.start_training(run_dir))
    elif mode == "sweep":   # RUN_DIR: the README's sweep folder; the same options continue it (nothing left to run)
        def sweep():
            win.panel.set_config(get_preset("dcgan").config())
            sp = win.sweep_panel
            win.tabs.setCurrentWidget(sp)
            sp.set_fields([("g_lr", "1e-4,4e-4"), ("d_steps", "1,2")])
            sp.budget.setValue(1.5)
            sp.folder.setText(str(run_dir))
            sp.start()
            best = sp.best()
            sp.table.selectRow(next(row for key, row in sp.rows.items() if sp.results.get(key) is best))

        QTimer.singleShot(300, sweep)
    elif mode in ("open", "light", "dark"):
        QTimer.singleShot(300, lambda: win.open_run(run_dir))
    elif mode == "enlarge":
        QTimer.singleShot(300, lambda: (win.open_run(run_dir), win.grid_view.enlarge(5)))
    elif mode == "about":
        QTimer.singleShot(300, lambda: (win.open_run(run_dir), win.desktop.show_about()))
    elif mode == "paused":
        from ganstudio.engine.events import Paused, StepMetrics  # noqa: PLC0415

        state = {"first": None}

        def on_event(ev):
            if isinstance(ev, StepMetrics):
                state["first"] = state["first"] or ev.step
                if ev.step == state["first"] + 3 and win.state == "running":
                    win.toggle_pause()
            elif isinstance(ev, Paused):
                win.tabs.setCurrentWidget(win.latent)
                win.latent.steps.setValue(10)
                win.latent.generate()

        def explore(res):   # once the first generation has come back: an A -> B strip and a moved sample
            if res["params"]["b"] == 0:
                win.latent.idx_b.setValue(2)
                win.latent.sliders[0].setValue(15)

        def start():
            win.open_run(run_dir)
            win.panel.set_value("steps", 0)      # resume past the run's own budget
            win.start_training()
            win.session.engineEvent.connect(on_event)

        win.latent.generated.connect(explore)
        QTimer.singleShot(300, start)
    else:
        def latent():
            win.open_run(run_dir)
            win.tabs.setCurrentWidget(win.latent)
            win.latent.steps.setValue(10)
            win.latent.generate()

        def pick_b():   # once the generator has loaded and the spin boxes know the sample count
            win.latent.idx_b.setValue(2)
            win.latent.generate()

        QTimer.singleShot(300, latent)
        QTimer.singleShot(20000, pick_b)
    app.aboutToQuit.connect(win.shutdown)
    app.exec()


if __name__ == "__main__":
    main()
