"""Desktop-app conventions, wired onto the MainWindow by `install_desktop(win, model, selected_step)`:

- File ▸ Open Recent (the studio model's recent runs), File ▸ Import run… / Export checkpoint…
  (ganstudio.outputs.archive, in a Task),
- View ▸ Theme (qt/theme.py), Help ▸ Keyboard shortcuts and Help ▸ About (qt/about.py),
- the runs root (the studio model's RunsRoot): the Runs tab shows where runs go and why, and the folder chosen
  there is kept in the settings and becomes GANSTUDIO_RUNS for this process (a GANSTUDIO_RUNS set by the user at
  launch wins over the saved one).

Everything here is reachable from tests through the returned `Desktop` object, with injectable file choosers. It
uses the window's public interface only, and the studio model.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from ..studio import StudioModel
from .about import AboutDialog, ShortcutsDialog
from .actions import make_action
from .theme import MODES, Theme
from .worker import Task, describe_error


def _menu(win, title: str) -> QMenu:
    for a in win.menuBar().actions():
        if a.menu() is not None and a.text().replace("&", "") == title:
            return a.menu()
    return win.menuBar().addMenu(f"&{title}")


def engine_summary(device: str) -> tuple[str, str]:
    """Started.device ('CPU, XLA off, mixed_bfloat16, …') -> (device, precision)."""
    parts = [p.strip() for p in device.split(",") if p.strip()]
    precision = next((p for p in parts if p == "float32" or p.startswith("mixed_")), "")
    return ", ".join(p for p in parts if p != precision), precision


class Desktop(QObject):
    def __init__(self, win, model: StudioModel, selected_step: Callable[[], int | None]) -> None:
        super().__init__(win)
        self.win = win
        self.model = model
        self.selected_step = selected_step       # the checkpoint selected in the dock, or None
        self.recent = model.recent
        self.theme = Theme(win.settings, self)
        self.about: AboutDialog | None = None
        self.shortcuts: ShortcutsDialog | None = None
        self.choose_archive: Callable[[], str] = lambda: QFileDialog.getOpenFileName(
            win, "Import run from a checkpoint archive", str(Path.home()), "Checkpoint archive (*.tar.gz *.tgz)")[0]
        self._build_menus()
        self._init_runs_root()
        model.state_changed.connect(lambda _state: self._update_actions())
        win.tasks.changed.connect(self._update_actions)
        self.theme.apply()

    # -- menus ------------------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        win = self.win
        file_menu = _menu(win, "File")
        self.recent_menu = QMenu("Open &Recent", win)
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        file_menu.insertMenu(win.act_watch, self.recent_menu)
        self.act_import = make_action(win, "Import run…", self.import_run_dialog,
                                      tip="Unpack a checkpoint archive into a new run folder and open it")
        file_menu.insertAction(win.act_watch, self.act_import)
        self.act_export_ckpt = make_action(win, "Export checkpoint…", self.export_checkpoint_dialog,
                                           tip="One portable archive of the selected (or latest) checkpoint: config, "
                                               "models, optimizers, RNG, fixed noise, metrics; `resume` continues it")
        file_menu.insertAction(win.export_menu.menuAction(), self.act_export_ckpt)

        view = _menu(win, "View")
        view.addSeparator()
        theme_menu = view.addMenu("&Theme")
        group = QActionGroup(win)
        self.theme_actions: dict[str, QAction] = {}
        for mode, text in MODES.items():
            a = QAction(text, win, checkable=True, checked=mode == self.theme.mode)
            a.triggered.connect(lambda _=False, m=mode: self.theme.set_mode(m))
            group.addAction(a)
            theme_menu.addAction(a)
            self.theme_actions[mode] = a

        help_menu = _menu(win, "Help")
        self.act_shortcuts = make_action(win, "Keyboard shortcuts", self.show_shortcuts, QKeySequence.HelpContents,
                                         "List every keyboard shortcut")
        self.act_about = make_action(win, "About ganstudio", self.show_about, tip="Versions, device and precision")
        help_menu.addAction(self.act_shortcuts)
        help_menu.addAction(self.act_about)
        self._update_actions()

    def _update_actions(self) -> None:
        tasks = self.win.tasks
        idle = self.model.session is None and not tasks.busy("import")
        self.act_import.setEnabled(idle)
        self.recent_menu.setEnabled(idle)
        self.act_export_ckpt.setEnabled(self.model.run_path is not None and not tasks.busy("export"))

    # -- Open Recent ------------------------------------------------------------------------------------------
    def fill_recent_menu(self) -> None:
        m = self.recent_menu
        m.clear()
        paths = self.recent.paths()
        for p in paths:
            a = m.addAction(p.name, lambda p=p: self.win.open_run(p))
            a.setStatusTip(str(p))
        if not paths:
            m.addAction("No recent runs").setEnabled(False)
        m.addSeparator()
        m.addAction("Clear recent runs", self.recent.clear).setEnabled(bool(paths))

    # -- Help -------------------------------------------------------------------------------------------------
    def show_about(self) -> AboutDialog:
        device, precision = engine_summary(self.model.device_info)
        self.about = AboutDialog(device, precision, self.win)
        self.about.open()
        return self.about

    def show_shortcuts(self) -> ShortcutsDialog:
        self.shortcuts = ShortcutsDialog(self.win.findChildren(QAction), self.win)
        self.shortcuts.open()
        return self.shortcuts

    # -- checkpoint archives ----------------------------------------------------------------------------------
    def export_checkpoint_dialog(self) -> Task | None:
        from ..core.errors import GanStudioError  # noqa: PLC0415
        from ..engine.checkpoints import find_checkpoint  # noqa: PLC0415
        from ..outputs.archive import default_archive_path  # noqa: PLC0415
        from ..runs import RunDir  # noqa: PLC0415

        win, model = self.win, self.model
        if model.run_path is None:
            model.report_error("Open or train a run first: the archive holds one of its checkpoints")
            return None
        try:
            run = RunDir.open(model.run_path)
            info = find_checkpoint(run.checkpoints, self.selected_step())
        except GanStudioError as e:
            model.report_error(str(e))
            return None
        path = win.choose_save_path("Export checkpoint archive", str(default_archive_path(run, info.step)),
                                    "Checkpoint archive (*.tar.gz)")
        if not path:
            return None
        if not path.endswith((".tar.gz", ".tgz")):
            path += ".tar.gz"
        return win.export_run("checkpoint", path, step=info.step)

    def import_run_dialog(self) -> Task | None:
        path = self.choose_archive()
        return self.import_run(path) if path else None

    def import_run(self, archive: str | Path) -> Task | None:
        """Unpack in the background, then open the new run (Start resumes it)."""
        win, model = self.win, self.model
        if model.session is not None:
            model.report_error("Stop training before importing a run")
            return None

        def job(_progress):
            from ..outputs.archive import import_checkpoint  # noqa: PLC0415

            return import_checkpoint(archive)

        task = Task(job, name="import", parent=win)
        task.done.connect(lambda path: win.open_run(path))
        task.failed.connect(lambda exc: model.report_error(f"Import failed: {describe_error(exc)}"))
        win.tasks.start(task)
        win.statusBar().showMessage(f"Importing {archive} …")
        return task

    # -- runs root --------------------------------------------------------------------------------------------
    def _init_runs_root(self) -> None:
        self.model.runs_root.restore()
        self.win.runs_panel.rootChosen.connect(self.set_runs_root)
        self._show_runs_root()

    def set_runs_root(self, folder: str | Path) -> Path:
        """Where new runs go from now on (this process, and later launches)."""
        path = self.model.runs_root.set(folder)
        self._show_runs_root()
        return path

    def _show_runs_root(self) -> None:
        root = self.model.runs_root
        self.win.runs_panel.show_root(root.path(),
                                      f" <span style='color: palette(mid)'>({root.reason()}); new runs go here</span>")


def install_desktop(win, model: StudioModel, selected_step: Callable[[], int | None]) -> Desktop:
    return Desktop(win, model, selected_step)
