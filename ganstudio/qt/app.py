"""`ganstudio` GUI entry point: show the window first, load TensorFlow afterwards in the background.

    python -m ganstudio gui [--preset tiny] [--dataset bundled] [--run-dir runs/XYZ]
    python -m ganstudio gui --watch runs/XYZ     (what `ganstudio watch RUN_DIR` runs; never loads TensorFlow)
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

ORG = "ganstudio"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ganstudio gui", description="Open the ganstudio window.")
    p.add_argument("--preset", default=None, help="preset to select at start")
    p.add_argument("--dataset", default=None, help="dataset spec to select at start")
    p.add_argument("--run-dir", default=None, help="open this run folder (Start resumes it if it has checkpoints)")
    p.add_argument("--start", action="store_true", help="start training as soon as the window is up")
    p.add_argument("--watch", default=None, metavar="DIR",
                   help="follow a run folder another process is training (read-only; it may not exist yet)")
    return p.parse_args(list(argv) if argv is not None else sys.argv[1:])


def configure_look(app: QApplication) -> None:
    """Fusion style (the theme's palettes are made for it), the icon, and the desktop entry's name, so the
    desktop matches the window to `ganstudio desktop-install`'s entry. Colours: qt/theme.py, from the settings."""
    import pyqtgraph as pg  # noqa: PLC0415

    from ..core.desktop_entry import APP_ID, ICON  # noqa: PLC0415
    from ..core.resources import resource_path  # noqa: PLC0415

    app.setStyle("Fusion")
    f = app.font()
    if f.pointSizeF() < 10:
        f.setPointSizeF(10)
        app.setFont(f)
    app.setWindowIcon(QIcon(str(resource_path(ICON))))
    QGuiApplication.setDesktopFileName(APP_ID)
    pg.setConfigOptions(antialias=False)


def create_window(argv: Sequence[str] | None = None, settings=None):
    """Build (app, window) without entering the event loop; `main` and the startup test share it."""
    args = parse_args(argv)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "ganstudio"])
    app.setOrganizationName(ORG)
    app.setApplicationName("ganstudio")
    configure_look(app)
    from .main_window import MainWindow  # noqa: PLC0415

    win = MainWindow(settings=settings, preset=args.preset, dataset=args.dataset)
    if args.watch:
        QTimer.singleShot(0, lambda: win.watch_run(args.watch))
    elif args.run_dir:
        # After the first paint, so a bad folder shows its error over a visible window.
        QTimer.singleShot(0, lambda: win.open_run(args.run_dir))
    return app, win


def main(argv: Sequence[str] | None = None) -> int:
    app, win = create_window(argv)
    win.show()
    app.aboutToQuit.connect(win.shutdown)   # join the training thread however the app exits
    args = parse_args(argv)
    if not args.watch:                      # watching only reads files: TensorFlow would be 2 GB for nothing
        QTimer.singleShot(0, win.warm_up_engine)
    if args.start and not args.watch:
        QTimer.singleShot(50, win.start_training)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
