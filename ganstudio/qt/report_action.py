"""Run ▸ Report…: write the run's one-page HTML report (ganstudio.report) in a background task and open it.

The report reads only the run folder, so it works for a finished run, an opened one, a watched one, or the run
being trained (the trainer keeps appending; the report shows the steps logged so far).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from .worker import Task, describe_error

if TYPE_CHECKING:
    from .main_window import MainWindow


def open_in_browser(path: Path) -> None:
    """Replaced in tests: offscreen runs must not launch a browser."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def make_report(win: "MainWindow") -> Task | None:
    """Write RUN/report.html off the GUI thread (matplotlib figures take a second or two), then open it."""
    if win.run_path is None:
        win._error("Open or train a run first: the report is built from the run folder")
        return None
    if win.tasks.busy("report"):
        win.statusBar().showMessage("A report is already being written", 5000)
        return None
    run = win.run_path

    def job(_progress):
        from ..report import write_report  # noqa: PLC0415 - matplotlib loads here, in the task thread

        return write_report(run)

    def done(path: object) -> None:
        win.statusBar().showMessage(f"Report written: {path}", 15000)
        open_in_browser(Path(str(path)))

    task = Task(job, name="report", parent=win)
    task.done.connect(done)
    task.failed.connect(lambda exc: win._error(f"Report failed: {describe_error(exc)}"))
    win.tasks.start(task)
    win.statusBar().showMessage(f"Writing the report of {run.name} …")
    return task
