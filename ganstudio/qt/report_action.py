"""Run ▸ Report…: write the run's one-page HTML report (ganstudio.outputs.report) in a background task and open it.

The report reads only the run folder, so it works for a finished run, an opened one, a watched one, or the run
being trained (the trainer keeps appending; the report shows the steps logged so far).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices

from ..studio import StudioModel
from .worker import Task, TaskSet, describe_error


def open_in_browser(path: Path) -> None:
    """Replaced in tests: offscreen runs must not launch a browser."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def make_report(model: StudioModel, tasks: TaskSet, show_message: Callable[[str, int], None],
                parent: QObject) -> Task | None:
    """Write RUN/report.html off the GUI thread (matplotlib figures take a second or two), then open it."""
    if model.run_path is None:
        model.report_error("Open or train a run first: the report is built from the run folder")
        return None
    if tasks.busy("report"):
        show_message("A report is already being written", 5000)
        return None
    run = model.run_path

    def job(_progress):
        from ..outputs.report import write_report  # noqa: PLC0415 - matplotlib loads here, in the task thread

        return write_report(run)

    def done(path: object) -> None:
        show_message(f"Report written: {path}", 15000)
        open_in_browser(Path(str(path)))

    task = Task(job, name="report", parent=parent)
    task.done.connect(done)
    task.failed.connect(lambda exc: model.report_error(f"Report failed: {describe_error(exc)}"))
    tasks.start(task)
    show_message(f"Writing the report of {run.name} …", 0)
    return task
